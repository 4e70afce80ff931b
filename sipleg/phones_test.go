package sipleg

import (
	"fmt"
	"testing"
	"time"

	"confd/internal/audiotest"
	"confd/internal/peer"
)

// roomURI is the SIP URI that dials room on the test server.
func (ts *testServer) roomURI(room string) string {
	return fmt.Sprintf("sip:%s@%s", room, ts.Addr())
}

// phone is a baresip phone with its own tone.
type phone struct {
	*peer.Baresip
	tone float64
}

func startPhone(t *testing.T, user string, c peer.Codec, toneHz float64) phone {
	t.Helper()
	return phone{Baresip: peer.Start(t, peer.BaresipConfig{User: user, Codec: c, ToneHz: toneHz, ToneDuration: 30 * time.Second}), tone: toneHz}
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
// second (jitter buffer and codec start) left out.
func recordedLevels(t *testing.T, p phone, tones ...float64) []float64 {
	t.Helper()
	pcm, rate, err := p.Recorded()
	if err != nil {
		t.Fatal(err)
	}
	if len(pcm) < rate {
		t.Fatalf("%s recorded only %d samples at %d Hz", p, len(pcm), rate)
	}
	pcm = pcm[rate/2:]
	out := make([]float64, len(tones))
	for i, f := range tones {
		out[i] = audiotest.ToneLevel(pcm, rate, f)
	}
	return out
}

// hearsOthersNotItself checks that p heard every other phone's tone at -30 dBFS or more and
// each of them at least 20 dB above its own (SPEC "What each participant hears": minus-one).
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
	peer.RequireBaresip(t)
	cases := []struct {
		name   string
		codecs []peer.Codec
	}{
		{"PCMU+Opus", []peer.Codec{peer.PCMU, peer.Opus}},
		{"PCMA+Opus", []peer.Codec{peer.PCMA, peer.Opus}},
		{"PCMU+PCMA+Opus+G722", []peer.Codec{peer.PCMU, peer.PCMA, peer.Opus, peer.G722}},
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
			waitFor(t, func() bool { return participants(ts, "codecs") == len(phones) })
			st, err := ts.bridge.RoomState("codecs")
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range st.Participants {
				t.Logf("participant %s: %s", p.From, p.Codec)
			}
			time.Sleep(3 * time.Second)
			hangupAll(t, phones...)
			for i, p := range phones {
				others := append(append([]phone(nil), phones[:i]...), phones[i+1:]...)
				hearsOthersNotItself(t, p, others...)
			}
			waitIdle(t, ts)
		})
	}
}
