package sipleg

import (
	"testing"
	"time"

	"github.com/pion/rtp"

	"confd/bridge"
	"confd/codec"
	"confd/prompts"
	"confd/testkit"
	"confd/testkit/audiotest"
)

// hearFor waits until the phone has heard d more of audio and returns how much it has heard.
func (p *rawPhone) hearFor(t *testing.T, d time.Duration) int {
	t.Helper()
	p.mu.Lock()
	want := len(p.heard) + int(d/time.Millisecond)*codec.SampleRate/1000
	p.mu.Unlock()
	testkit.Eventually(t, d+10*time.Second, "the phone hears nothing", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.heard) >= want
	})
	return want
}

// TestCallerNameRecordedAndAnnouncedWhenItLeaves: in a room that announces who comes and goes,
// a caller through the IVR (the room has a PIN) is asked for its name after the tone, and what
// it sends then (its tone) is kept for the call as its name. When Bob hangs up, Ada, still in,
// hears his tone again: his name, followed by "has left".
func TestCallerNameRecordedAndAnnouncedWhenItLeaves(t *testing.T) {
	skipPromptsIfShort(t)
	t.Parallel()
	ts := startServer(t, Config{IVRDigitTimeout: 3 * time.Second},
		map[string]bridge.RoomSettings{"named": {PIN: "55", AnnounceJoinLeave: true}})
	ada := dialRawPhone(t, ts, "named", 440)
	ada.typeDigits(t, "55#")
	testkit.Eventually(t, 30*time.Second, "Ada did not join", func() bool { return participants(ts, "named") == 1 })
	bob := dialRawPhone(t, ts, "named", 700)
	bob.typeDigits(t, "55#")
	testkit.Eventually(t, 30*time.Second, "Bob did not join", func() bool { return participants(ts, "named") == 2 })

	ts.mu.Lock()
	names := map[float64]*bridge.HoldMusic{}
	for _, c := range ts.calls {
		if n := c.recordedName.Load(); n != nil {
			for _, hz := range []float64{440, 700} {
				if audiotest.ToneLevel(n.PCM(), codec.SampleRate, hz) > -30 {
					names[hz] = n
				}
			}
		}
	}
	ts.mu.Unlock()
	if len(names) != 2 {
		t.Fatalf("recorded names of %v Hz, want Ada's 440 and Bob's 700", names)
	}
	if d := names[700].Duration(); d < NameDuration-200*time.Millisecond || d > NameDuration+40*time.Millisecond {
		t.Errorf("Bob's name lasts %v, want %v", d, NameDuration)
	}

	// Bob's arrival is announced with his name and "has joined": Ada hears it out (by her
	// audio's clock) before he hangs up, so that what follows his leaving is the leave's.
	joined, _ := prompts.Get(prompts.HasJoined)
	ada.hearFor(t, NameDuration+time.Duration(len(joined))*time.Second/prompts.Rate+500*time.Millisecond)
	bob.d.bye()
	testkit.Eventually(t, 5*time.Second, "Bob did not leave", func() bool { return participants(ts, "named") == 1 })
	ada.mu.Lock()
	mark := len(ada.heard)
	ada.mu.Unlock()
	want := ada.hearFor(t, NameDuration)
	ada.mu.Lock()
	after := append([]int16(nil), ada.heard[mark:want]...)
	ada.mu.Unlock()
	if l := audiotest.ToneLevel(after, codec.SampleRate, 700); l < -30 {
		t.Errorf("after Bob left, Ada hears his name at %.1f dBFS", l)
	}
	ada.d.bye()
	waitIdle(t, ts)
}

// TestNameRecorderIsFullAfterNameDurationOfAudio: the name ends when NameDuration of the
// caller's audio has been decoded (full closes), however late its packets were read; the IVR
// used to end it NameDuration after the beep on confd's clock, so that on a busy machine, where
// the media reader lagged, Bob's 2.5 s name came out 1.68 s long (one full suite in several).
func TestNameRecorderIsFullAfterNameDurationOfAudio(t *testing.T) {
	dec, err := codec.NewDecoder(codec.PCMU)
	if err != nil {
		t.Fatal(err)
	}
	rec := newNameRecorder(0, dec)
	payload := make([]byte, 160) // 20 ms of PCMU
	frames := int(NameDuration / codec.FrameDuration)
	for i := range frames {
		select {
		case <-rec.full:
			t.Fatalf("full after %d of %d frames", i, frames)
		default:
		}
		rec.push(&rtp.Header{PayloadType: 0, SequenceNumber: uint16(i)}, payload)
	}
	select {
	case <-rec.full:
	default:
		t.Fatalf("not full after %d frames (%v of audio)", frames, NameDuration)
	}
	rec.push(&rtp.Header{PayloadType: 0}, payload) // ignored, and no second close
	if d := rec.stop().Duration(); d != NameDuration {
		t.Errorf("the name lasts %v, want %v", d, NameDuration)
	}
}
