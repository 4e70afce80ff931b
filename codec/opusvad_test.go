package codec_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"confd/codec"
	"confd/testkit/audiotest"
)

// TestOpusVoiceActivity reads the SILK voice activity flags of what libopus encodes without
// DTX: a tone's onset is speech, an open microphone in a quiet room (-70 dBFS noise) is not,
// a CELT-only packet cannot say, and a DTX frame is silence. Reading them allocates nothing.
func TestOpusVoiceActivity(t *testing.T) {
	encode := func(capture func([]int16), frames int) [][]byte {
		enc, err := codec.NewEncoder(codec.Format{Codec: codec.Opus, NoDTX: true})
		if err != nil {
			t.Fatal(err)
		}
		var f codec.Frame
		var out [][]byte
		buf := make([]byte, codec.MaxPayloadSize)
		for range frames {
			capture(f[:])
			n, err := enc.Encode(f[:], buf)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, append([]byte(nil), buf[:n]...))
		}
		return out
	}
	rng := rand.New(rand.NewPCG(1, 2))
	amp := 32767 * math.Pow(10, -70.0/20) * math.Sqrt(3)
	quiet := encode(func(pcm []int16) {
		for i := range pcm {
			pcm[i] = int16((rng.Float64()*2 - 1) * amp)
		}
	}, 100)
	for i, p := range quiet[10:] {
		if voice, known := codec.OpusVoiceActivity(p); !known || voice {
			t.Fatalf("quiet packet %d (%d bytes, TOC config %d): voice %v known %v, want known silence", i+10, len(p), p[0]>>3, voice, known)
		}
	}
	tone := encode(audiotest.NewTone(440, 0.15, codec.SampleRate).Fill, 10)
	for i, p := range tone {
		if voice, known := codec.OpusVoiceActivity(p); !known || !voice {
			t.Fatalf("tone packet %d (%d bytes): voice %v known %v, want speech", i, len(p), voice, known)
		}
	}
	for _, c := range []struct {
		name    string
		payload []byte
		known   bool
	}{
		{"CELT-only FB 20 ms", []byte{31 << 3, 0xff, 0xff, 0xff}, false},
		{"DTX, hybrid FB 20 ms", []byte{15 << 3}, true},
		{"empty", nil, false},
		{"malformed code 1, odd length", []byte{15<<3 | 1, 1, 2, 3}, false},
	} {
		if voice, known := codec.OpusVoiceActivity(c.payload); voice || known != c.known {
			t.Errorf("%s: voice %v known %v, want no voice, known %v", c.name, voice, known, c.known)
		}
	}
	if allocs := testing.AllocsPerRun(100, func() { codec.OpusVoiceActivity(tone[5]) }); allocs != 0 {
		t.Errorf("%.0f allocations per packet", allocs)
	}
}
