package codec

import (
	"math"
	"testing"

	"confd/testkit/audiotest"
)

// encoderAndDecoder returns an encoder of f and a decoder of f's codec, or fails the test.
func encoderAndDecoder(t testing.TB, f Format) (Encoder, Decoder) {
	t.Helper()
	enc, err := NewEncoder(f)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := NewDecoder(f.Codec)
	if err != nil {
		t.Fatal(err)
	}
	return enc, dec
}

// toneWithLoss sends 20 frames of a tone at freq through enc and dec, concealing frame 10 as
// lost, and returns the decoded stream. It checks that the concealed frame continues the tone
// with at least plcSNR dB, that the whole stream (past skip) keeps the tone with at least 15 dB,
// and that no sample jumps more than 3 times the tone's own largest step: no click at either
// edge of the loss.
func toneWithLoss(t *testing.T, enc Encoder, dec Decoder, freq, plcSNR float64, skip int) []int16 {
	t.Helper()
	const amp = 0.5
	tone := audiotest.NewTone(freq, amp, SampleRate)
	var f Frame
	payload := make([]byte, MaxPayloadSize)
	pcm := make([]int16, FrameSamples)
	var out []int16
	for i := 0; i < 20; i++ {
		tone.Fill(f[:])
		n, err := enc.Encode(f[:], payload)
		if err != nil {
			t.Fatal(err)
		}
		if i == 10 {
			if _, err := dec.Conceal(pcm); err != nil {
				t.Fatal(err)
			}
			checkTone(t, dec.String()+" concealed frame", pcm, SampleRate, freq, plcSNR)
		} else if _, err := dec.Decode(payload[:n], pcm); err != nil {
			t.Fatal(err)
		}
		out = append(out, pcm...)
	}
	checkTone(t, dec.String()+" tone with a concealed loss", out[skip:], SampleRate, freq, 15)
	maxStep := amp * 32767 * 2 * math.Pi * freq / SampleRate
	for i := skip + 1; i < len(out); i++ {
		if d := math.Abs(float64(out[i]) - float64(out[i-1])); d > 3*maxStep {
			t.Errorf("%v: click at %.2f ms: step %.0f, the tone's largest is %.0f", dec, float64(i)/48, d, maxStep)
			break
		}
	}
	return out
}

// checkHotPathsAllocateNothing asserts that Encode, Decode and Conceal on preallocated buffers
// allocate nothing, and returns one payload for further checks.
func checkHotPathsAllocateNothing(t *testing.T, enc Encoder, dec Decoder) []byte {
	t.Helper()
	pcmIn := make([]int16, enc.Format().Samples())
	audiotest.NewTone(440, 0.3, SampleRate).Fill(pcmIn)
	payload := make([]byte, MaxPayloadSize)
	pcm := make([]int16, MaxPacketSamples)
	var n int
	if a := testing.AllocsPerRun(50, func() { n, _ = enc.Encode(pcmIn, payload) }); a != 0 {
		t.Errorf("%v Encode: %v allocs", enc, a)
	}
	p := payload[:n]
	if a := testing.AllocsPerRun(50, func() { _, _ = dec.Decode(p, pcm) }); a != 0 {
		t.Errorf("%v Decode: %v allocs", dec, a)
	}
	if a := testing.AllocsPerRun(50, func() { _, _ = dec.Conceal(pcm[:FrameSamples]) }); a != 0 {
		t.Errorf("%v Conceal: %v allocs", dec, a)
	}
	if a := testing.AllocsPerRun(50, func() { _, _ = dec.Duration(p) }); a != 0 {
		t.Errorf("%v Duration: %v allocs", dec, a)
	}
	return p
}
