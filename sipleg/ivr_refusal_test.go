package sipleg

import (
	"fmt"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"confd/bridge"
	"confd/prompts"
	"confd/testkit/audiotest"
)

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
