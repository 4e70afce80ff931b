package sipleg

import (
	"fmt"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"confd/bridge"
	"confd/codec"
	"confd/prompts"
	"confd/testkit"
	"confd/testkit/audiotest"
)

// info sends one INFO with a dtmf-relay body in the dialog.
func (d *dialog) info(digit byte) int {
	return d.infoBody("application/dtmf-relay", fmt.Sprintf("Signal=%c\r\nDuration=160\r\n", digit))
}

// infoBody sends one INFO with body of type contentType in the dialog and returns its answer's
// status.
func (d *dialog) infoBody(contentType, body string) int {
	c := d.c
	msg := string(c.inDialog("INFO", d.last, d.cseq))
	msg = msg[:len(msg)-len("Content-Length: 0\r\n\r\n")] +
		fmt.Sprintf("Content-Type: %s\r\nContent-Length: %d\r\n\r\n%s", contentType, len(body), body)
	c.send([]byte(msg))
	for {
		res := c.read(3 * time.Second)
		if res == nil {
			c.t.Fatal("INFO not answered")
		}
		if res.CSeq().MethodName == "INFO" && res.CSeq().SeqNo == d.cseq {
			d.cseq++
			return res.StatusCode
		}
	}
}

// TestDialInByInfoJoinsTheRightRoom: a call to a dial-in number types the meeting number and
// then the PIN as SIP INFO (typed ahead of the prompts: barge-in) and joins that room.
func TestDialInByInfoJoinsTheRightRoom(t *testing.T) {
	skipPromptsIfShort(t)
	t.Parallel()
	ts := startServer(t, Config{DialIn: []string{"1000"}, IVRDigitTimeout: 3 * time.Second},
		map[string]bridge.RoomSettings{"4242": {PIN: "987"}, "4243": {}})
	p := dialRawPhone(t, ts, "1000", 700)
	if participants(ts, "1000") != 0 || participants(ts, "4242") != 0 {
		t.Fatal("joined before the IVR")
	}
	p.typeDigits(t, "4242#987#")
	testkit.Eventually(t, 20*time.Second, "the meeting number and PIN did not join the room", func() bool { return participants(ts, "4242") == 1 })
	if participants(ts, "4243") != 0 || participants(ts, "1000") != 0 {
		t.Fatal("joined another room too")
	}
	p.d.bye()
	waitIdle(t, ts)
}

// TestPromptsAndRoomAreOneStream: a caller that types its room's PIN, after a pause once the
// prompt asking for it has ended, hears the prompts and then the room on one RTP stream (one
// SSRC, sequence numbers one apart, a timestamp that keeps time, over the pause too), as a
// phone that stays in one call expects: its jitter buffer need not start over at the next
// prompt or the join, and the room's first words are not lost to it.
func TestPromptsAndRoomAreOneStream(t *testing.T) {
	skipPromptsIfShort(t)
	t.Parallel()
	ts := startServer(t, Config{IVRDigitTimeout: 3 * time.Second}, map[string]bridge.RoomSettings{"secret": {PIN: "4321"}})
	p := dialRawPhone(t, ts, "secret", 700)
	testkit.Eventually(t, 20*time.Second, "the prompt asking for the PIN did not end", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.packets > 0 && time.Since(p.lastAt) > 1500*time.Millisecond
	})
	p.typeDigits(t, "4321#")
	testkit.Eventually(t, 20*time.Second, "the PIN did not join the room", func() bool { return participants(ts, "secret") == 1 })
	joined := p.received()
	testkit.Eventually(t, 10*time.Second, "the room sent nothing", func() bool { return p.received() > joined+10 })
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.streamCut) > 0 {
		t.Errorf("%d packets, the stream cut %d times: %q", p.packets, len(p.streamCut), p.streamCut)
	}
}

// received is how many packets the phone has received.
func (p *rawPhone) received() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.packets
}

// TestWrongPINThriceSaysGoodbyeAndHangsUp: three wrong PINs (by INFO) are answered with the
// prompts, then "goodbye" is played and confd sends BYE.
func TestWrongPINThriceSaysGoodbyeAndHangsUp(t *testing.T) {
	skipPromptsIfShort(t)
	t.Parallel()
	ts := startServer(t, Config{IVRDigitTimeout: 3 * time.Second}, map[string]bridge.RoomSettings{"secret": {PIN: "4321"}})
	start := time.Now()
	p := dialRawPhone(t, ts, "secret", 700)
	p.typeDigits(t, "1#2#3#")
	spoken := spokenLength(t, prompts.EnterPIN, prompts.InvalidPIN, prompts.InvalidPIN, prompts.Goodbye)
	if p.d.c.awaitRequest(sip.BYE, spoken+10*time.Second) == nil {
		t.Fatal("no BYE after three wrong PINs")
	}
	took := time.Since(start)
	p.mu.Lock()
	heard := append([]int16(nil), p.heard...)
	p.mu.Unlock()
	goodbye, _ := prompts.Get(prompts.Goodbye)
	last := heard[max(0, len(heard)-len(goodbye)):]
	t.Logf("BYE after %v (prompts last %v); %v of audio heard, the last %v at %.1f dBFS",
		took.Round(time.Millisecond), spoken.Round(time.Millisecond), time.Duration(len(heard))*time.Second/codec.SampleRate,
		time.Duration(len(last))*time.Second/codec.SampleRate, audiotest.RMS(last))
	if took < spoken*9/10 {
		t.Errorf("BYE after %v, before the prompts (%v) could be played", took, spoken)
	}
	if len(heard) < int(spoken.Seconds()*codec.SampleRate)*9/10 || audiotest.RMS(last) < -45 {
		t.Error("the prompts and the goodbye were not heard")
	}
	waitIdle(t, ts)
}

func TestDrainRefusesNewCalls(t *testing.T) {
	ts := startServer(t, Config{RetryAfter: 7}, nil)
	ts.Drain()
	_, port := callerMedia(t)
	c := newRawClient(t, "udp", ts)
	res := c.newDialog().request("INVITE", "room", sdpOffer(port, 1, pcmuAudio))
	if res.StatusCode != 503 || res.GetHeader("Retry-After") == nil || res.GetHeader("Retry-After").Value() != "7" {
		t.Fatalf("answered %d %v while draining", res.StatusCode, res.GetHeader("Retry-After"))
	}
	if _, err := ts.DialOut(t.Context(), "room", "sip:bob@127.0.0.1"); err == nil {
		t.Fatal("dial-out while draining")
	}
}

// TestIVRPromptForEachRefusal: the IVR tells a caller why its meeting number is refused with
// the prompt of the cause (bridge.StatusOf's 403, 486, 480, 503), and says goodbye at once where
// no other number can help: a room that is ending ("The conference has ended. Goodbye.") or a
// bridge that is draining ("Sorry, goodbye."), as the status table answers 480 and 503 there.
func TestIVRPromptForEachRefusal(t *testing.T) {
	for _, tc := range []struct {
		err    error
		prompt string
		final  bool
	}{
		{fmt.Errorf("%w: x", bridge.ErrRoomLocked), prompts.Locked, false},
		{bridge.ErrRoomFull, prompts.Full, false},
		{bridge.ErrRoomEnding, prompts.ConferenceEnded, true},
		{bridge.ErrDraining, prompts.Goodbye, true},
		{bridge.ErrBadRoomName, prompts.InvalidMeeting, false},
	} {
		farewell := prompts.Goodbye
		if tc.final {
			farewell = tc.prompt
		}
		if got := farewellPrompt(fmt.Errorf("ivr: %w", tc.err)); got != farewell {
			t.Errorf("%v: farewell %s, want %s", tc.err, got, farewell)
		}
		if prompt, final := meetingRefusalPrompt(tc.err); prompt != tc.prompt || final != tc.final {
			t.Errorf("%v: %s (final %v), want %s (final %v)", tc.err, prompt, final, tc.prompt, tc.final)
		}
	}
}

// TestIVRSaysGoodbyeWhenDrainingStartsMidDialog: a caller in the IVR of a dial-in number when
// confd starts draining types a meeting number: no room takes it, so it hears goodbye and gets
// a BYE, instead of "That meeting number is not valid" and a wait for another number
// (IVRDigitTimeout, far longer than the deadline here) that could not join either.
func TestIVRSaysGoodbyeWhenDrainingStartsMidDialog(t *testing.T) {
	skipPromptsIfShort(t)
	t.Parallel()
	ts := startServer(t, Config{DialIn: []string{"1000"}, IVRDigitTimeout: time.Minute},
		map[string]bridge.RoomSettings{"4242": {}})
	p := dialRawPhone(t, ts, "1000", 700)
	ts.bridge.Drain() // as the daemon drains: the bridge, then the legs
	ts.Drain()
	p.typeDigits(t, "4242#")
	if p.d.c.awaitRequest(sip.BYE, spokenLength(t, prompts.Welcome, prompts.Goodbye)+20*time.Second) == nil {
		t.Fatal("no BYE after a meeting number typed while draining")
	}
	p.mu.Lock()
	heard := append([]int16(nil), p.heard...)
	p.mu.Unlock()
	goodbye, _ := prompts.Get(prompts.Goodbye)
	if last := heard[max(0, len(heard)-len(goodbye)):]; audiotest.RMS(last) < -45 {
		t.Errorf("goodbye not heard: the last %d samples at %.1f dBFS", len(last), audiotest.RMS(last))
	}
	if participants(ts, "4242") != 0 {
		t.Error("joined while draining")
	}
	waitIdle(t, ts)
}

// spokenLength is how long the prompts called names last, played one after another.
func spokenLength(t *testing.T, names ...string) time.Duration {
	t.Helper()
	var d time.Duration
	for _, name := range names {
		pcm, err := prompts.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		d += time.Duration(len(pcm)) * time.Second / prompts.Rate
	}
	return d
}
