package sipleg

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"confd/bridge"
	"confd/codec"
	"confd/testkit"
	"confd/testkit/audiotest"
	"confd/testkit/baresip"
)

// roomURI is the SIP URI that dials room on the test server.
func (ts *testServer) roomURI(room string) string {
	return fmt.Sprintf("sip:%s@%s", room, ts.Addr())
}

// phone is a baresip phone with its own tone.
type phone struct {
	*baresip.Phone
	tone float64
}

func startPhone(t *testing.T, user string, c baresip.Codec, toneHz float64) phone {
	t.Helper()
	return phone{Phone: baresip.Start(t, baresip.Config{User: user, Codec: c, ToneHz: toneHz, ToneDuration: 30 * time.Second}), tone: toneHz}
}

// dialAll makes every phone call uri and waits until each call is up.
func dialAll(t *testing.T, uri string, phones ...phone) {
	t.Helper()
	for _, p := range phones {
		if err := p.Dial(uri); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range phones {
		if _, err := p.WaitEstablished(10 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
}

// hangupAll ends every phone's call and waits until it is closed, so that its recording is
// complete.
func hangupAll(t *testing.T, phones ...phone) {
	t.Helper()
	for _, p := range phones {
		if err := p.Hangup(); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range phones {
		if _, err := p.WaitClosed(10 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
}

// recordedLevels returns the level in dBFS of each tone in what p decoded, the first half
// second (jitter buffer and codec start) left out. It is audiotest.MedianToneLevel, the median
// over 200 ms pieces: what a phone decodes is spliced wherever confd's jitter buffer dropped or
// concealed a frame (more often the more loaded the machine), and a Goertzel sum over the whole
// recording reads a 440 Hz tone spliced a few times as 20 dB fainter than it is.
func recordedLevels(t *testing.T, p phone, tones ...float64) []float64 {
	return recordedLevelsLast(t, p, 0, tones...)
}

// recordedLevelsLast is recordedLevels over the last d of the recording only (all of it
// when d is 0).
func recordedLevelsLast(t *testing.T, p phone, d time.Duration, tones ...float64) []float64 {
	t.Helper()
	pcm, rate, err := p.Recorded()
	if err != nil {
		t.Fatal(err)
	}
	if len(pcm) < rate {
		t.Fatalf("%s recorded only %d samples at %d Hz", p, len(pcm), rate)
	}
	pcm = pcm[rate/2:]
	if n := int(d.Seconds() * float64(rate)); n > 0 && n < len(pcm) {
		pcm = pcm[len(pcm)-n:]
	}
	out := make([]float64, len(tones))
	for i, f := range tones {
		out[i] = audiotest.MedianToneLevel(pcm, rate, f)
	}
	return out
}

// hearsOthersNotItself checks that p heard every other phone's tone at -30 dBFS or more and
// each of them at least 20 dB above its own (docs/SPEC.md "What each participant hears": minus-one).
func hearsOthersNotItself(t *testing.T, p phone, others ...phone) {
	t.Helper()
	tones := []float64{p.tone}
	for _, o := range others {
		tones = append(tones, o.tone)
	}
	levels := recordedLevels(t, p, tones...)
	own := levels[0]
	for i, o := range others {
		other := levels[i+1]
		if other < -30 || other-own < 20 {
			t.Errorf("%s (%s) hears %s (%s, %g Hz) at %.1f dBFS and itself (%g Hz) at %.1f dBFS",
				p, p.Config().Codec, o, o.Config().Codec, o.tone, other, p.tone, own)
		} else {
			t.Logf("%s (%s) hears %g Hz at %.1f dBFS, itself at %.1f dBFS", p, p.Config().Codec, o.tone, other, own)
		}
	}
}

// TestPhonesHearEachOther: baresip phones on different codecs in one room each hear every
// other phone and not themselves: PCMU with Opus, PCMA with Opus, and four phones on PCMU,
// PCMA, Opus and G.722.
func TestPhonesHearEachOther(t *testing.T) {
	baresip.Require(t)
	cases := []struct {
		name   string
		codecs []baresip.Codec
	}{
		{"PCMU+Opus", []baresip.Codec{baresip.PCMU, baresip.Opus}},
		{"PCMA+Opus", []baresip.Codec{baresip.PCMA, baresip.Opus}},
		{"PCMU+PCMA+Opus+G722", []baresip.Codec{baresip.PCMU, baresip.PCMA, baresip.Opus, baresip.G722}},
	}
	tones := []float64{440, 1000, 700, 1300}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, Config{}, nil)
			var phones []phone
			for i, c := range tc.codecs {
				phones = append(phones, startPhone(t, fmt.Sprintf("p%d", i), c, tones[i]))
			}
			dialAll(t, ts.roomURI("codecs"), phones...)
			waitParticipants(t, ts, "codecs", len(phones))
			st, err := ts.bridge.RoomState("codecs")
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range st.Participants {
				t.Logf("participant %s: %s", p.From, p.Codec)
			}
			awaitSent(t, ts, "codecs", len(phones), 3*time.Second)
			explainFailure(t, ts, "codecs", phones...)
			hangupAll(t, phones...)
			for i, p := range phones {
				others := append(append([]phone(nil), phones[:i]...), phones[i+1:]...)
				hearsOthersNotItself(t, p, others...)
			}
			waitIdle(t, ts)
		})
	}
}

// startAuthProxy runs a small stateful SIP proxy (RFC 3261 section 16) in front of one phone on
// 127.0.0.1:phonePort: every INVITE without the right credentials gets a 407 challenge (401
// when proxyAuth is false, as a registrar-and-proxy would answer), an authorized one is
// forwarded to the phone with the proxy's Via on top, and each response is relayed back with
// that Via taken off. It does not Record-Route, so ACK and BYE of the dialog go end to end.
func startAuthProxy(t *testing.T, phonePort int, proxyAuth bool) *peerUA {
	p := startPeerUA(t, proxyAuth)
	client, err := sipgo.NewClient(p.ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	phone := fmt.Sprintf("127.0.0.1:%d", phonePort)
	p.srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		if !p.authorized(req, tx) {
			return
		}
		fwd := req.Clone()
		fwd.Recipient = sip.Uri{Scheme: "sip", User: req.Recipient.User, Host: "127.0.0.1", Port: phonePort}
		fwd.RemoveHeader("Proxy-Authorization")
		fwd.RemoveHeader("Authorization")
		fwd.SetDestination(phone)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ctx2, err := client.TransactionRequest(ctx, fwd, sipgo.ClientRequestAddVia, sipgo.ClientRequestDecreaseMaxForward)
		if err != nil {
			respond(tx, req, 502, "Bad Gateway")
			return
		}
		defer ctx2.Terminate()
		for {
			select {
			case res := <-ctx2.Responses():
				relayed := res.Clone()
				relayed.RemoveHeader("Via")
				// The clone keeps the address it came from as its destination: send it back
				// where the request came from instead (RFC 3261 section 18.2.2).
				relayed.SetDestination(req.Source())
				_ = tx.Respond(relayed)
				if res.StatusCode >= 200 {
					return
				}
			case <-ctx2.Done():
				respond(tx, req, 408, "Request Timeout")
				return
			case <-tx.Done():
				return
			}
		}
	})
	p.serve()
	return p
}

// TestDialOutThroughAnAuthenticatingProxy: confd dials a baresip phone that answers by itself,
// through a proxy that challenges with 407 (and, in the other case, 401); the call is answered
// and the callee and a phone that dialled in hear each other.
func TestDialOutThroughAnAuthenticatingProxy(t *testing.T) {
	baresip.Require(t)
	for _, proxyAuth := range []bool{true, false} {
		name := map[bool]string{true: "407", false: "401"}[proxyAuth]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			callee := phone{Phone: baresip.Start(t, baresip.Config{User: "bob", Codec: baresip.Opus, ToneHz: 1000,
				AutoAnswer: true, ToneDuration: 30 * time.Second}), tone: 1000}
			proxy := startAuthProxy(t, callee.SIPPort(), proxyAuth)
			ts := startServer(t, Config{Credentials: []Credential{{Realm: "peer", Host: "127.0.0.1", User: "alice", Password: "secret"}}}, nil)
			caller := startPhone(t, "carol", baresip.PCMU, 440)
			dialAll(t, ts.roomURI("out"), caller)

			sub := ts.bridge.Bus().Subscribe("out", 64, "")
			defer sub.Close()
			id, err := ts.DialOut(context.Background(), "out", "sip:bob@"+proxy.addr)
			if err != nil {
				t.Fatal(err)
			}
			statuses := awaitAnswered(t, sub, id)
			t.Logf("dial events: %v", statuses)
			if proxy.challenged.Load() == 0 {
				t.Fatalf("the proxy never challenged with %s", name)
			}
			if _, err := callee.WaitEstablished(5 * time.Second); err != nil {
				t.Fatal(err)
			}
			awaitSent(t, ts, "out", 2, 3*time.Second)
			explainFailure(t, ts, "out", caller, callee)
			hangupAll(t, caller, callee)
			hearsOthersNotItself(t, caller, callee)
			hearsOthersNotItself(t, callee, caller)
			waitIdle(t, ts)
		})
	}
}

// TestDialInByRFC4733JoinsTheRightRoom: a baresip phone calls a dial-in number, types the
// meeting number and then the PIN as RFC 4733 telephone-events (baresip's own DTMF sender),
// joins that room, and hears the phone already there.
func TestDialInByRFC4733JoinsTheRightRoom(t *testing.T) {
	baresip.Require(t)
	skipPromptsIfShort(t)
	t.Parallel()
	ts := startServer(t, Config{DialIn: []string{"1000"}, IVRDigitTimeout: 3 * time.Second},
		map[string]bridge.RoomSettings{"4242": {PIN: "987"}, "4243": {}})
	host := startPhone(t, "host", baresip.PCMA, 1000)
	dialAll(t, ts.roomURI("4242"), host)
	if err := host.SendDTMF("987#"); err != nil { // a room with a PIN asks for it even when dialled directly
		t.Fatal(err)
	}
	guest := startPhone(t, "guest", baresip.PCMU, 440)
	dialAll(t, ts.roomURI("1000"), guest)
	if err := guest.SendDTMF("4242#"); err != nil {
		t.Fatal(err)
	}
	if err := guest.SendDTMF("987#"); err != nil {
		t.Fatal(err)
	}
	if !testkit.WaitFor(25*time.Second, func() bool { return participants(ts, "4242") == 2 }) {
		t.Fatalf("%d in the room after the meeting number and PIN, want 2", participants(ts, "4242"))
	}
	if participants(ts, "4243") != 0 || participants(ts, "1000") != 0 {
		t.Fatal("joined another room too")
	}
	// The recording begins with the prompts: the last two seconds are judged, of the three or
	// more that confd has sent since the guest joined the room.
	awaitSent(t, ts, "4242", 2, 3*time.Second)
	explainFailure(t, ts, "4242", host, guest)
	hangupAll(t, host, guest)
	levels := recordedLevelsLast(t, guest, 2*time.Second, 1000, 440)
	t.Logf("the guest hears the host at %.1f dBFS, itself at %.1f dBFS", levels[0], levels[1])
	if levels[0] < -30 || levels[0]-levels[1] < 20 {
		t.Errorf("the guest hears the host at %.1f dBFS and itself at %.1f dBFS", levels[0], levels[1])
	}
	waitIdle(t, ts)
}

// roomParticipants returns the SIP calls of ts in room with their participants.
func roomParticipants(ts *testServer, r *bridge.Room) map[*call]*bridge.Participant {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	out := make(map[*call]*bridge.Participant)
	for _, c := range ts.calls {
		if p := c.part.Load(); p != nil && p.Room() == r {
			out[c] = p
		}
	}
	return out
}

// awaitSent waits until the phones calls of ts are in room and confd has sent each of them d of
// audio more (one packet per codec.FrameDuration, the phones' ptime): the audio a test then
// judges was sent, however long a starved machine took to send it, rather than whatever a fixed
// sleep let through. It fails the test, with confd's media counters, when that takes more than
// twice d and 5 s.
func awaitSent(t *testing.T, ts *testServer, room string, phones int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(2*d + 5*time.Second)
	var in map[*call]*bridge.Participant
	for {
		if r, ok := ts.bridge.Room(room); ok {
			if in = roomParticipants(ts, r); len(in) == phones {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d phones in room %s, want %d", len(in), room, phones)
		}
		time.Sleep(codec.FrameDuration)
	}
	want := uint64(d / codec.FrameDuration)
	from := make(map[*bridge.Participant]uint64)
	for _, p := range in {
		from[p] = p.SenderStats().Packets
	}
	for {
		short := 0
		for p, n := range from {
			if p.SenderStats().Packets-n < want {
				short++
			}
		}
		if short == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("confd sent %d of the %d phones of %s less than %v of audio in %v:\n%s", short, len(from), room, d, 2*d+5*time.Second, mediaStats(ts, room))
		}
		time.Sleep(codec.FrameDuration)
	}
}

// mediaStats describes what confd saw of every call in room: the room clock's late and skipped
// ticks, and for each participant its socket's counters, its jitter buffer's (late, dropped and
// concealed frames: each a splice in what the others hear) and what confd sent it.
func mediaStats(ts *testServer, room string) string {
	r, ok := ts.bridge.Room(room)
	if !ok {
		return "room " + room + " is gone"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "room %s: clock %+v mixer %+v", room, r.ClockStats(), r.MixerStats())
	for c, p := range roomParticipants(ts, r) {
		fmt.Fprintf(&b, "\n%s: media %+v jitter %+v sent %+v", c.from, c.media.Stats(), p.JitterStats(), p.SenderStats())
	}
	return b.String()
}

// explainFailure takes confd's media counters of room now (before the phones hang up and leave
// it) and, if the test fails, logs them and, when SIPLEG_KEEP names a directory, copies the
// phones' recordings and logs there to be listened to.
func explainFailure(t *testing.T, ts *testServer, room string, phones ...phone) {
	stats := mediaStats(ts, room)
	t.Cleanup(func() { // before the phones' own cleanup removes their recordings
		if !t.Failed() {
			return
		}
		t.Logf("confd's counters before the hangup:\n%s", stats)
		dir := os.Getenv("SIPLEG_KEEP")
		if dir == "" {
			return
		}
		dst, err := os.MkdirTemp(dir, strings.ReplaceAll(t.Name(), "/", "-")+"-")
		if err != nil {
			t.Log(err)
			return
		}
		_ = os.WriteFile(filepath.Join(dst, "confd-stats"), []byte(stats+"\n"), 0o644)
		for _, p := range phones {
			files, _ := filepath.Glob(filepath.Join(p.Dir(), "*", "dump-*.wav"))
			for _, f := range files {
				if b, err := os.ReadFile(f); err == nil {
					_ = os.WriteFile(filepath.Join(dst, p.Config().User+"-"+filepath.Base(f)), b, 0o644)
				}
			}
			_ = os.WriteFile(filepath.Join(dst, p.Config().User+".log"), []byte(p.Log()), 0o644)
		}
		t.Logf("recordings kept in %s", dst)
	})
}
