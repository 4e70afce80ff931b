package codec

import (
	"testing"
	"time"
)

func TestEveryCodecCarriesAToneAcrossReset(t *testing.T) {
	// Reset mid-stream on both sides, as after a stream restart: the next packets still carry
	// the tone. Opus's decoder Reset makes a new libopus state; the others clear theirs.
	skip := map[Codec]int{Opus: opusSkip, PCMU: g711Skip, PCMA: g711Skip, G722: g711Skip}
	for _, c := range []Codec{Opus, PCMU, PCMA, G722} {
		enc, dec := encoderAndDecoder(t, Format{Codec: c})
		encodeDecodeTone(t, enc, dec, 800, 10)
		enc.Reset()
		dec.Reset()
		out := encodeDecodeTone(t, enc, dec, 800, 15)
		checkTone(t, dec.String()+" after Reset", out[skip[c]:], SampleRate, 800, 25)
	}
}

// TestRTPUnits: a duration on each codec's RTP clock (G.722 counts 8000 per second, RFC 3551
// section 4.5.2, though it carries 16 kHz audio).
func TestRTPUnits(t *testing.T) {
	for _, tc := range []struct {
		c    Codec
		d    time.Duration
		want int
	}{{Opus, 20 * time.Millisecond, 960}, {PCMU, 60 * time.Millisecond, 480}, {G722, 20 * time.Millisecond, 160}, {Opus, 3 * FrameDuration, 2880}} {
		if got := tc.c.RTPUnits(tc.d); got != tc.want {
			t.Errorf("%v %v: %d, want %d", tc.c, tc.d, got, tc.want)
		}
	}
}
