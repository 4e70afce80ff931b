package codec

import "testing"

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
