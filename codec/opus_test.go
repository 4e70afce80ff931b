package codec

import (
	"errors"
	"math"
	"testing"
	"time"

	"confd/testkit/audiotest"
)

// encodeDecodeTone sends a tone of freq Hz through enc and dec for frames packets and returns
// the decoded 48 kHz PCM.
func encodeDecodeTone(t *testing.T, enc Encoder, dec Decoder, freq float64, frames int) []int16 {
	t.Helper()
	n := enc.Format().Samples()
	tone := audiotest.NewTone(freq, 0.3, SampleRate)
	in := make([]int16, n)
	payload := make([]byte, MaxPayloadSize)
	pcm := make([]int16, MaxPacketSamples)
	var out []int16
	for i := 0; i < frames; i++ {
		tone.Fill(in)
		m, err := enc.Encode(in, payload)
		if err != nil {
			t.Fatalf("%v: encode: %v", enc, err)
		}
		if m == 0 {
			t.Fatalf("%v: a tone was encoded as DTX", enc)
		}
		d, err := dec.Duration(payload[:m])
		if err != nil || d != n {
			t.Fatalf("%v: duration %d, %v; want %d", dec, d, err, n)
		}
		got, err := dec.Decode(payload[:m], pcm)
		if err != nil || got != n {
			t.Fatalf("%v: decode %d samples, %v; want %d", dec, got, err, n)
		}
		out = append(out, pcm[:got]...)
	}
	return out
}

// checkTone asserts that pcm holds a tone at freq with at least minSNR dB.
func checkTone(t *testing.T, what string, pcm []int16, rate int, freq, minSNR float64) {
	t.Helper()
	peak := audiotest.PeakFrequency(pcm, rate)
	snr := audiotest.SNR(pcm, rate, freq)
	if math.Abs(peak-freq) > math.Max(5, freq*0.01) || snr < minSNR {
		t.Errorf("%s: %.0f Hz tone came out at %.1f Hz with SNR %.1f dB (want ≥ %.0f dB)", what, freq, peak, snr, minSNR)
	} else {
		t.Logf("%s: %.0f Hz → %.1f Hz, SNR %.1f dB", what, freq, peak, snr)
	}
}

// opusSkip is the decoded audio dropped before measuring: the encoder's look-ahead and the
// decoder's delay (6.5 ms) plus the encoder's settling at the start, 100 ms in all.
const opusSkip = 5 * FrameSamples

func TestOpusTones(t *testing.T) {
	cases := []struct {
		format Format
		freqs  []float64
		minSNR float64
	}{
		{Format{Codec: Opus}, []float64{300, 1000, 3000, 7000}, 15},
		// Fullband needs the bitrate: at 32 kbit/s hybrid mode gives its CELT layer too few
		// bits for a lone 12 kHz tone (SNR about 0 dB), and SILK's voice detector, which sees
		// nothing below 8 kHz, lets DTX drop it. Speech always has energy below 8 kHz.
		{Format{Codec: Opus, Bitrate: 64000, Complexity: 10}, []float64{440, 3000, 12000}, 20},
		{Format{Codec: Opus, PacketTime: 60 * time.Millisecond, ExpectedLoss: 10}, []float64{1000}, 15},
		{Format{Codec: Opus, Bitrate: 12000, Complexity: ComplexityZero, NoDTX: true}, []float64{440, 3000}, 15},
	}
	for _, c := range cases {
		for _, freq := range c.freqs {
			enc, dec := encoderAndDecoder(t, c.format)
			out := encodeDecodeTone(t, enc, dec, freq, 30*FrameSamples/enc.Format().Samples())
			checkTone(t, enc.String(), out[opusSkip:], SampleRate, freq, c.minSNR)
		}
	}
}

func TestOpusDTXSilenceSendsAlmostNothing(t *testing.T) {
	enc, dec := encoderAndDecoder(t, Format{Codec: Opus})
	var f Frame
	payload := make([]byte, MaxPayloadSize)
	pcm := make([]int16, MaxPacketSamples)
	sent, bytes := 0, 0
	const frames = 250 // 5 s of silence
	for i := 0; i < frames; i++ {
		n, err := enc.Encode(f[:], payload)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			sent++
			bytes += n
			if _, err := dec.Decode(payload[:n], pcm); err != nil {
				t.Fatal(err)
			}
			if lvl := audiotest.RMS(pcm[:FrameSamples]); lvl > -60 {
				t.Errorf("silence decoded at %.1f dBFS", lvl)
			}
		}
	}
	// libopus sends a few packets before entering DTX, then one comfort-noise packet every 400 ms.
	if sent > 25 || bytes > 1500 {
		t.Errorf("5 s of silence sent %d packets, %d bytes; want at most 25 packets (DTX)", sent, bytes)
	}
	t.Logf("5 s of silence: %d packets, %d bytes", sent, bytes)

	// The DTX frame libopus makes is one byte; its duration is known and it decodes.
	dtx := []byte{payload[0] &^ 3}
	if !OpusIsDTX(dtx) {
		t.Error("a bare TOC is not DTX")
	}
	if d, err := dec.Duration(dtx); err != nil || d != FrameSamples {
		t.Errorf("DTX frame duration %d, %v; want %d", d, err, FrameSamples)
	}
	if n, err := dec.Decode(dtx, pcm); err != nil || n != FrameSamples {
		t.Errorf("DTX frame decodes to %d samples, %v", n, err)
	}

	// With DTX off, silence is sent every time.
	enc, _ = NewEncoder(Format{Codec: Opus, NoDTX: true})
	for i := 0; i < 50; i++ {
		if n, err := enc.Encode(f[:], payload); err != nil || n == 0 {
			t.Fatalf("NoDTX: packet %d has %d bytes, %v", i, n, err)
		}
	}
}

func TestOpusFECRecoversALostPacket(t *testing.T) {
	const freq = 700
	enc, dec := encoderAndDecoder(t, Format{Codec: Opus, ExpectedLoss: 10})
	tone := audiotest.NewTone(freq, 0.3, SampleRate)
	var f Frame
	payload := make([]byte, MaxPayloadSize)
	lost := make([]byte, MaxPayloadSize)
	pcm := make([]int16, MaxPacketSamples)
	var out []int16
	const lostAt = 20
	lostN := 0
	for i := 0; i < 40; i++ {
		tone.Fill(f[:])
		n, err := enc.Encode(f[:], payload)
		if err != nil || n == 0 {
			t.Fatalf("encode: %d, %v", n, err)
		}
		if i == lostAt {
			lostN = copy(lost, payload[:n])
			continue
		}
		if i == lostAt+1 {
			if !OpusHasFEC(payload[:n]) {
				t.Fatal("packet after the loss carries no FEC with ExpectedLoss 10")
			}
			m, err := dec.DecodeFEC(payload[:n], pcm[:FrameSamples])
			if err != nil || m != FrameSamples {
				t.Fatalf("DecodeFEC: %d, %v", m, err)
			}
			rec := pcm[:FrameSamples]
			checkTone(t, "recovered packet", rec, SampleRate, freq, 10)
			if lvl := audiotest.ToneLevel(rec, SampleRate, freq); lvl < -16 {
				t.Errorf("recovered tone at %.1f dBFS, want near -10.5", lvl)
			}
			out = append(out, rec...)
		}
		m, err := dec.Decode(payload[:n], pcm)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pcm[:m]...)
	}
	checkTone(t, "stream with a packet recovered by FEC", out[opusSkip:], SampleRate, freq, 12)

	// Without FEC the same position has none, and DecodeFEC says so.
	enc, _ = NewEncoder(Format{Codec: Opus})
	for i := 0; i < 5; i++ {
		tone.Fill(f[:])
		n, _ := enc.Encode(f[:], payload)
		if OpusHasFEC(payload[:n]) {
			t.Fatal("FEC found in a packet of an encoder without expected loss")
		}
		if _, err := dec.DecodeFEC(payload[:n], pcm[:FrameSamples]); !errors.Is(err, ErrNoFEC) {
			t.Fatalf("DecodeFEC without FEC: %v, want ErrNoFEC", err)
		}
	}
	_ = lostN
}

func TestOpusSetExpectedLossTurnsFECOn(t *testing.T) {
	enc, _ := NewEncoder(Format{Codec: Opus})
	tone := audiotest.NewTone(500, 0.3, SampleRate)
	var f Frame
	payload := make([]byte, MaxPayloadSize)
	count := func() int {
		c := 0
		for i := 0; i < 10; i++ {
			tone.Fill(f[:])
			n, _ := enc.Encode(f[:], payload)
			if OpusHasFEC(payload[:n]) {
				c++
			}
		}
		return c
	}
	if c := count(); c != 0 {
		t.Fatalf("%d packets with FEC before SetExpectedLoss", c)
	}
	if err := enc.SetExpectedLoss(20); err != nil {
		t.Fatal(err)
	}
	if enc.Format().ExpectedLoss != 20 {
		t.Errorf("Format().ExpectedLoss = %d after SetExpectedLoss(20)", enc.Format().ExpectedLoss)
	}
	if c := count(); c < 8 {
		t.Fatalf("only %d of 10 packets with FEC after SetExpectedLoss(20)", c)
	}
	if err := enc.SetExpectedLoss(101); !errors.Is(err, ErrBadFormat) {
		t.Errorf("SetExpectedLoss(101) = %v, want ErrBadFormat", err)
	}
}

func TestOpusConcealContinuesTheTone(t *testing.T) {
	const freq = 440
	enc, dec := encoderAndDecoder(t, Format{Codec: Opus})
	encodeDecodeTone(t, enc, dec, freq, 20)
	pcm := make([]int16, FrameSamples)
	if n, err := dec.Conceal(pcm); err != nil || n != FrameSamples {
		t.Fatalf("Conceal: %d, %v", n, err)
	}
	checkTone(t, "opus PLC", pcm, SampleRate, freq, 10)
	for _, bad := range []int{0, 100, MaxPacketSamples + 480} {
		if _, err := dec.Conceal(make([]int16, bad)); !errors.Is(err, ErrBadPacketSize) {
			t.Errorf("Conceal(%d samples) = %v, want ErrBadPacketSize", bad, err)
		}
	}
}

func TestOpusErrors(t *testing.T) {
	enc, dec := encoderAndDecoder(t, Format{Codec: Opus})
	payload := make([]byte, MaxPayloadSize)
	if _, err := enc.Encode(make([]int16, 100), payload); !errors.Is(err, ErrBadPacketSize) {
		t.Errorf("short pcm: %v", err)
	}
	if _, err := enc.Encode(make([]int16, FrameSamples), nil); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("no dst: %v", err)
	}
	pcm := make([]int16, MaxPacketSamples)
	for _, p := range [][]byte{nil, {0x03}, {0x01, 1, 2, 3}} {
		if _, err := dec.Decode(p, pcm); !errors.Is(err, ErrCorruptPayload) {
			t.Errorf("Decode(%x) = %v, want ErrCorruptPayload", p, err)
		}
	}
	// A 60 ms packet does not fit a 20 ms buffer.
	if _, err := dec.Decode([]byte{0x18}, pcm[:FrameSamples]); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("Decode into a short buffer = %v, want ErrShortBuffer", err)
	}
}

func TestOpusStrings(t *testing.T) {
	enc, _ := NewEncoder(Format{Codec: Opus})
	if s := enc.String(); s != "opus-enc(opus/48000 20ms 32kbit/s c5)" {
		t.Errorf("encoder String() = %q", s)
	}
	dec, _ := NewDecoder(Opus)
	if s := dec.String(); s != "opus-dec(opus/48000)" {
		t.Errorf("decoder String() = %q", s)
	}
}

func TestOpusHotPathsAllocateNothing(t *testing.T) {
	enc, dec := encoderAndDecoder(t, Format{Codec: Opus, ExpectedLoss: 10})
	p := checkHotPathsAllocateNothing(t, enc, dec)
	pcm := make([]int16, MaxPacketSamples)
	if a := testing.AllocsPerRun(50, func() { _, _ = dec.DecodeFEC(p, pcm[:FrameSamples]) }); a != 0 {
		t.Errorf("DecodeFEC: %v allocs", a)
	}
	if a := testing.AllocsPerRun(50, func() {
		_, _ = OpusPacketSamples(p)
		_ = OpusIsDTX(p)
		_ = OpusHasFEC(p)
		_, _ = dec.Duration(p)
	}); a != 0 {
		t.Errorf("packet inspection: %v allocs", a)
	}
	if a := testing.AllocsPerRun(50, func() { _ = enc.SetExpectedLoss(5) }); a != 0 {
		t.Errorf("SetExpectedLoss: %v allocs", a)
	}
}

func TestOpusSteadyToneIsNeverDTX(t *testing.T) {
	// libopus alone turns a steady tone into DTX after about a second (its voice detector
	// learns it as noise); the encoder must keep sending it, then go quiet when it stops.
	enc, _ := NewEncoder(Format{Codec: Opus})
	tone := audiotest.NewTone(440, 0.05, SampleRate)
	var f Frame
	payload := make([]byte, MaxPayloadSize)
	for i := 0; i < 250; i++ { // 5 s
		tone.Fill(f[:])
		n, err := enc.Encode(f[:], payload)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("a steady -26 dBFS tone went to DTX at %d ms", 20*i)
		}
	}
	f.Clear()
	sent := 0
	for i := 0; i < 100; i++ {
		if n, _ := enc.Encode(f[:], payload); n > 0 {
			sent++
		}
	}
	if sent > 20 {
		t.Errorf("2 s of silence after a tone sent %d packets; want DTX", sent)
	}
}

func TestOpusDecoderResetAllocatesNothingAndForgets(t *testing.T) {
	dec, err := NewDecoder(Opus)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := NewEncoder(Format{Codec: Opus})
	pcm := make([]int16, FrameSamples)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*700*float64(i)/SampleRate))
	}
	payload := make([]byte, MaxPayloadSize)
	out := make([]int16, MaxPacketSamples)
	n, _ := enc.Encode(pcm, payload)
	_, _ = dec.Decode(payload[:n], out)
	if a := testing.AllocsPerRun(100, dec.Reset); a != 0 {
		t.Errorf("Reset: %v allocations", a)
	}
	// After a reset, concealment has nothing to extend: silence.
	m, _ := dec.Conceal(out[:FrameSamples])
	var peak int16
	for _, s := range out[:m] {
		peak = max(peak, s, -s)
	}
	if peak > 100 {
		t.Errorf("concealment after Reset peaks at %d: the old state survived", peak)
	}
}

// TestOpusLowDelayHasLessLookahead: a tone that starts after silence comes out of the decoder
// later than it went in by the encoder's look-ahead: 6.5 ms in the VoIP application, 2.5 ms in
// the restricted low-delay one that Format.LowDelay asks for (cascade legs between nodes).
func TestOpusLowDelayHasLessLookahead(t *testing.T) {
	onset := func(f Format) time.Duration {
		enc, dec := encoderAndDecoder(t, f)
		tone := audiotest.NewTone(1000, 0.3, SampleRate)
		in := make([]int16, FrameSamples)
		payload := make([]byte, MaxPayloadSize)
		pcm := make([]int16, MaxPacketSamples)
		for i := range 20 {
			clear(in)
			if i >= 10 { // the tone starts at sample 10·FrameSamples
				tone.Fill(in)
			}
			m, err := enc.Encode(in, payload)
			if err != nil {
				t.Fatal(err)
			}
			n, err := dec.Decode(payload[:m], pcm)
			if err != nil {
				t.Fatal(err)
			}
			for j, s := range pcm[:n] {
				if i >= 10 && (s > 3000 || s < -3000) { // a third of the tone's peak
					return time.Duration((i-10)*FrameSamples+j) * time.Second / SampleRate
				}
			}
		}
		t.Fatalf("%v: the tone never came out", f)
		return 0
	}
	voip := onset(Format{Codec: Opus, Bitrate: 128000, NoDTX: true})
	low := onset(Format{Codec: Opus, Bitrate: 128000, NoDTX: true, LowDelay: true})
	t.Logf("onset after %v in the VoIP application, %v in restricted low delay", voip, low)
	if low > 3500*time.Microsecond || voip-low < 3*time.Millisecond {
		t.Errorf("low delay: onset after %v, VoIP after %v; want about 2.5 ms and 4 ms less", low, voip)
	}
}
