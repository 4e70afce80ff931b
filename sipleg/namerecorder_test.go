package sipleg

import (
	"testing"

	"github.com/pion/rtp"

	"confd/codec"
)

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
