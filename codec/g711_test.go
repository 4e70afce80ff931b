package codec

import (
	"errors"
	"math"
	"testing"
	"time"

	"confd/testkit/audiotest"
)

// g711Skip is the decoded audio dropped before measuring: both resamplers' delays (5 ms) and
// their start-up, 20 ms in all.
const g711Skip = FrameSamples

func TestG711Tones(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		for _, ptime := range []time.Duration{0, 40 * time.Millisecond, 60 * time.Millisecond} {
			for _, freq := range []float64{300, 440, 1000, 2000, 3000} {
				enc, dec := encoderAndDecoder(t, Format{Codec: c, PacketTime: ptime})
				frames := 15 * FrameSamples / enc.Format().Samples()
				out := encodeDecodeTone(t, enc, dec, freq, frames)
				// G.711's companding gives about 38 dB SNR at any level within its range.
				checkTone(t, enc.String(), out[g711Skip:], SampleRate, freq, 30)
				if lvl := audiotest.ToneLevel(out[g711Skip:], SampleRate, freq); math.Abs(lvl-(-10.46)) > 1 {
					t.Errorf("%v: %.0f Hz at %.2f dBFS, want -10.46 ± 1", enc, freq, lvl)
				}
			}
		}
	}
}

func TestG711PayloadSizeAndDuration(t *testing.T) {
	enc, dec := encoderAndDecoder(t, Format{Codec: PCMA, PacketTime: 40 * time.Millisecond})
	payload := make([]byte, MaxPayloadSize)
	n, err := enc.Encode(make([]int16, 2*FrameSamples), payload)
	if err != nil || n != 320 {
		t.Fatalf("40 ms PCMA payload: %d bytes, %v; want 320", n, err)
	}
	if d, err := dec.Duration(payload[:n]); err != nil || d != 2*FrameSamples {
		t.Errorf("Duration = %d, %v", d, err)
	}
	if _, err := enc.Encode(make([]int16, FrameSamples), payload); !errors.Is(err, ErrBadPacketSize) {
		t.Errorf("20 ms into a 40 ms encoder: %v", err)
	}
	if _, err := enc.Encode(make([]int16, 2*FrameSamples), payload[:100]); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("short dst: %v", err)
	}
	pcm := make([]int16, MaxPacketSamples)
	if _, err := dec.Decode(nil, pcm); !errors.Is(err, ErrCorruptPayload) {
		t.Errorf("empty payload: %v", err)
	}
	if _, err := dec.Decode(make([]byte, 961), pcm); !errors.Is(err, ErrCorruptPayload) {
		t.Errorf("121 ms payload: %v", err)
	}
	if _, err := dec.Decode(make([]byte, 161), pcm[:FrameSamples]); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("short pcm: %v", err)
	}
	if _, err := dec.DecodeFEC(payload[:n], pcm); !errors.Is(err, ErrNoFEC) {
		t.Errorf("DecodeFEC: %v, want ErrNoFEC", err)
	}
	for _, bad := range []int{0, 7, MaxPacketSamples + 6} {
		if _, err := dec.Conceal(make([]int16, bad)); !errors.Is(err, ErrBadPacketSize) {
			t.Errorf("Conceal(%d) = %v, want ErrBadPacketSize", bad, err)
		}
	}
	if s := enc.String(); s != "pcma-enc(PCMA/8000 40ms)" {
		t.Errorf("String() = %q", s)
	}
	if s := dec.String(); s != "pcma-dec(PCMA/8000)" {
		t.Errorf("String() = %q", s)
	}
}

func TestG711Level(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		enc, _ := NewEncoder(Format{Codec: c})
		payload := make([]byte, MaxPayloadSize)
		var f Frame
		for _, amp := range []float64{1, 0.1, 0.01, 0.001} {
			tone := audiotest.NewTone(1000, amp, SampleRate)
			var n int
			for i := 0; i < 3; i++ { // past the resampler's start
				tone.Fill(f[:])
				n, _ = enc.Encode(f[:], payload)
			}
			got := G711Level(payload[:n], c)
			want := LevelOf(f[:])
			// At -64 dBov A-law's coarsest steps (16 in 16-bit terms) add noise of their own.
			slack := 1
			if amp < 0.01 {
				slack = 3
			}
			if d := int(got) - int(want); d < -slack || d > slack {
				t.Errorf("%v: level of a %.3f tone is %d dBov, the PCM's is %d", c, amp, got, want)
			}
		}
	}
	if l := G711Level(nil, PCMU); l != Silence {
		t.Errorf("empty payload: %d", l)
	}
	if l := G711Level([]byte{0xff, 0xff}, PCMU); l != Silence {
		t.Errorf("µ-law zeros: %d, want Silence", l)
	}
	if l := G711Level([]byte{1, 2}, Opus); l != Silence {
		t.Errorf("another codec: %d", l)
	}
}

func TestG711ConcealContinuesThenFades(t *testing.T) {
	for _, freq := range []float64{200, 440, 1000} {
		enc, dec := encoderAndDecoder(t, Format{Codec: PCMU})
		encodeDecodeTone(t, enc, dec, freq, 10)
		var loss [6][FrameSamples]int16 // 120 ms
		for i := range loss {
			if n, err := dec.Conceal(loss[i][:]); err != nil || n != FrameSamples {
				t.Fatalf("Conceal: %d, %v", n, err)
			}
		}
		// The first 10 ms continue the tone at full level (past the resampler's delay).
		first := loss[0][3*FrameSamples/4:]
		checkTone(t, "G.711 PLC, first 20 ms", loss[0][:], SampleRate, freq, 12)
		if lvl := audiotest.ToneLevel(first, SampleRate, freq); lvl < -13 {
			t.Errorf("%.0f Hz: concealment at %.1f dBFS in its first 20 ms", freq, lvl)
		}
		// From 60 ms the loss is silent.
		for i := 3; i < 6; i++ {
			if lvl := audiotest.RMS(loss[i][FrameSamples/4:]); lvl > -80 {
				t.Errorf("%.0f Hz: concealment still at %.1f dBFS %d ms into the loss", freq, lvl, 20*i+5)
			}
		}
	}
}

func TestG711RecoversSmoothlyAfterALoss(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		enc, dec := encoderAndDecoder(t, Format{Codec: c})
		toneWithLoss(t, enc, dec, 500, 15, g711Skip)
	}
}

func TestG711HotPathsAllocateNothing(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		enc, dec := encoderAndDecoder(t, Format{Codec: c})
		p := checkHotPathsAllocateNothing(t, enc, dec)
		if a := testing.AllocsPerRun(50, func() { _ = G711Level(p, c) }); a != 0 {
			t.Errorf("%v G711Level: %v allocs", c, a)
		}
	}
}
