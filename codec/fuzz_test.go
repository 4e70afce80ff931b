package codec

import (
	"errors"
	"testing"
)

// FuzzDecoders feeds arbitrary payloads to every decoder and to the packet inspectors: nothing
// may panic, a successful Decode writes exactly Duration samples, and every failure is one of
// the package's errors. Seeds are in testdata/fuzz/FuzzDecoders: real Opus packets of each mode
// (with and without FEC, DTX, multi-frame), G.711 payloads and malformed packets.
func FuzzDecoders(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{15 << 3})
	f.Add([]byte{1<<3 | 3, 0x80 | 2, 1, 5, 6, 7})
	decoders := make([]Decoder, 0, 4)
	for _, c := range []Codec{Opus, PCMU, PCMA, G722} {
		d, err := NewDecoder(c)
		if err != nil {
			f.Fatal(err)
		}
		decoders = append(decoders, d)
	}
	pcm := make([]int16, MaxPacketSamples)
	f.Fuzz(func(t *testing.T, payload []byte) {
		samples, perr := OpusPacketSamples(payload)
		if perr == nil && (samples <= 0 || samples > MaxPacketSamples) {
			t.Fatalf("OpusPacketSamples = %d", samples)
		}
		_ = OpusIsDTX(payload)
		_ = OpusHasFEC(payload)
		_ = G711Level(payload, PCMU)
		_ = G711Level(payload, PCMA)
		for _, d := range decoders {
			dur, derr := d.Duration(payload)
			n, err := d.Decode(payload, pcm)
			if err == nil && (derr != nil || n != dur) {
				t.Fatalf("%v: Decode wrote %d samples, Duration said %d, %v", d, n, dur, derr)
			}
			if err != nil && !errors.Is(err, ErrCorruptPayload) {
				t.Fatalf("%v: Decode error %v is not ErrCorruptPayload", d, err)
			}
			if _, err := d.DecodeFEC(payload, pcm[:FrameSamples]); err != nil && !errors.Is(err, ErrNoFEC) && !errors.Is(err, ErrCorruptPayload) {
				t.Fatalf("%v: DecodeFEC error %v", d, err)
			}
			if _, err := d.Conceal(pcm[:FrameSamples]); err != nil {
				t.Fatalf("%v: Conceal after a bad payload: %v", d, err)
			}
		}
	})
}
