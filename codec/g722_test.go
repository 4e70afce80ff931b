package codec

import (
	"errors"
	"math"
	"testing"
	"time"

	"confd/testkit/audiotest"
)

func TestG722Tones(t *testing.T) {
	// The lower band (to 4 kHz) has 6 bits per sample, the higher band (4–8 kHz) only 2: its
	// tones come out right but noisier.
	cases := []struct {
		freq, minSNR float64
	}{{300, 30}, {1000, 30}, {3000, 30}, {5000, 15}, {7000, 15}}
	for _, ptime := range []time.Duration{0, 60 * time.Millisecond} {
		for _, c := range cases {
			enc, dec := encoderAndDecoder(t, Format{Codec: G722, PacketTime: ptime})
			frames := 15 * FrameSamples / enc.Format().Samples()
			out := encodeDecodeTone(t, enc, dec, c.freq, frames)
			checkTone(t, enc.String(), out[g711Skip:], SampleRate, c.freq, c.minSNR)
			if lvl := audiotest.ToneLevel(out[g711Skip:], SampleRate, c.freq); math.Abs(lvl-(-10.46)) > 1.5 {
				t.Errorf("%v: %.0f Hz at %.2f dBFS, want -10.46 ± 1.5", enc, c.freq, lvl)
			}
		}
	}
}

func TestG722PayloadAndClock(t *testing.T) {
	enc, dec := encoderAndDecoder(t, Format{Codec: G722})
	payload := make([]byte, MaxPayloadSize)
	n, err := enc.Encode(make([]int16, FrameSamples), payload)
	// 20 ms: 320 samples at 16 kHz in 160 bytes, and 160 ticks of the 8000 Hz RTP clock.
	if err != nil || n != 160 || n != G722.ClockRate()/50 {
		t.Fatalf("20 ms payload: %d bytes, %v", n, err)
	}
	if d, err := dec.Duration(payload[:n]); err != nil || d != FrameSamples {
		t.Errorf("Duration = %d, %v", d, err)
	}
	pcm := make([]int16, MaxPacketSamples)
	if _, err := dec.Decode(nil, pcm); !errors.Is(err, ErrCorruptPayload) {
		t.Errorf("empty payload: %v", err)
	}
	if _, err := dec.Decode(make([]byte, 961), pcm); !errors.Is(err, ErrCorruptPayload) {
		t.Errorf("121 ms payload: %v", err)
	}
	if _, err := dec.Decode(payload[:n], pcm[:100]); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("short pcm: %v", err)
	}
	if _, err := dec.DecodeFEC(payload[:n], pcm); !errors.Is(err, ErrNoFEC) {
		t.Errorf("DecodeFEC: %v", err)
	}
	if _, err := dec.Conceal(pcm[:4]); !errors.Is(err, ErrBadPacketSize) {
		t.Errorf("Conceal(4): %v", err)
	}
	if s := enc.String(); s != "g722-enc(G722/8000 20ms)" {
		t.Errorf("String() = %q", s)
	}
	if s := dec.String(); s != "g722-dec(G722/8000)" {
		t.Errorf("String() = %q", s)
	}
}

func TestG722ConcealAndRecover(t *testing.T) {
	enc, dec := encoderAndDecoder(t, Format{Codec: G722})
	toneWithLoss(t, enc, dec, 600, 12, g711Skip)
}

func TestG722HotPathsAllocateNothing(t *testing.T) {
	enc, dec := encoderAndDecoder(t, Format{Codec: G722})
	checkHotPathsAllocateNothing(t, enc, dec)
}
