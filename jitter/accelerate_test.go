package jitter

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"confd/codec"
	"confd/testkit/audiotest"
)

// signalDecoder decodes fakePayload packets into a known signal: packet i of n samples plays
// sig(i·n) to sig(i·n+n-1), so that what the playout does to the timeline can be measured.
type signalDecoder struct {
	fakeDecoder
	sig  func(n int) float64
	next int // media position after the last output, for concealment
}

func (d *signalDecoder) Decode(p []byte, pcm []int16) (int, error) {
	n, err := d.Duration(p)
	if err != nil || len(p) < fakePayloadLen {
		return 0, codec.ErrCorruptPayload
	}
	d.next = int(binary.BigEndian.Uint32(p[4:])) * n
	return d.Conceal(pcm[:n])
}

func (d *signalDecoder) Conceal(pcm []int16) (int, error) {
	for i := range pcm {
		pcm[i] = int16(math.Round(d.sig(d.next + i)))
	}
	d.next += len(pcm)
	return len(pcm), nil
}

// newSignalBuffer returns a Buffer of cfg whose decoders play sig.
func newSignalBuffer(t *testing.T, cfg Config, sig func(n int) float64) *Buffer {
	t.Helper()
	cfg.NewDecoder = func(c codec.Codec) (codec.Decoder, error) {
		return &signalDecoder{fakeDecoder: fakeDecoder{codec: c}, sig: sig}, nil
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sine returns a sine of freq Hz at half of full scale.
func sine(freq float64) func(n int) float64 {
	return func(n int) float64 { return 16384 * math.Sin(2*math.Pi*freq*float64(n)/codec.SampleRate) }
}

// voice returns a speech-like signal: eight harmonics of a pitch gliding between 110 and 190 Hz
// three times a second, at about half of full scale.
func voice() func(n int) float64 {
	const count = 10 * codec.SampleRate
	phase := make([]float64, count)
	for n := 1; n < count; n++ {
		t := float64(n) / codec.SampleRate
		phase[n] = phase[n-1] + 2*math.Pi*(150+40*math.Sin(2*math.Pi*3*t))/codec.SampleRate
	}
	return func(n int) float64 {
		var v float64
		for h := 1; h <= 8; h++ {
			v += math.Sin(float64(h)*phase[n%count]) / float64(h)
		}
		return 8000 * v
	}
}

// shrinkRun plays packets of sig, each with level (and the voice flag unless silent(i) says the
// packet is a pause at -80 dBov), over a clean network into a buffer that starts 100 ms late, and
// returns what played and the buffer. It ticks every 20 ms and reads every tick.
func shrinkRun(t *testing.T, sig func(n int) float64, ticks int, silent func(i int) bool) ([]int16, *Buffer, []time.Duration) {
	t.Helper()
	b := newSignalBuffer(t, Config{StartDelay: 100 * time.Millisecond, PayloadTypes: []PayloadType{{Type: 0, Codec: codec.PCMU}}}, sig)
	var out []int16
	var delays []time.Duration
	var f codec.Frame
	for i := range ticks {
		p := Packet{PayloadType: 0, SequenceNumber: uint16(i), Timestamp: uint32(i * 160), SSRC: 3,
			Payload: fakePayload(i, 960, false), HasLevel: true, Level: -12, Voice: true}
		if silent != nil && silent(i) {
			p.Level, p.Voice = -80, false
		}
		if err := b.Push(p, tickTime(i).Add(time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		b.Advance(tickTime(i).Add(5 * time.Millisecond))
		if b.Read(&f) || len(out) > 0 {
			out = append(out, f[:]...)
		}
		delays = append(delays, b.CurrentDelay())
	}
	return out, b, delays
}

// phaseJumps returns the largest change, in degrees, of the phase of the sine at freq between
// Hann-windowed 10 ms pieces of pcm that are 10 ms apart (pieces start every 5 ms, so that every
// splice falls between two of them), each phase taken against the same clock: zero for a sine
// that runs on unbroken, 72 degrees across a 20 ms cut of a 440 Hz tone.
func phaseJumps(pcm []int16, freq float64) float64 {
	const size, hop = codec.SampleRate / 100, codec.SampleRate / 200
	w := 2 * math.Pi * freq / codec.SampleRate
	var worst float64
	var phases []float64
	for off := 0; off+size <= len(pcm); off += hop {
		var re, im float64
		for i := range size {
			win := 0.5 - 0.5*math.Cos(2*math.Pi*(float64(i)+0.5)/size)
			re += win * float64(pcm[off+i]) * math.Cos(w*float64(off+i))
			im -= win * float64(pcm[off+i]) * math.Sin(w*float64(off+i))
		}
		phases = append(phases, math.Atan2(im, re)*180/math.Pi)
		if k := len(phases) - 1; k >= 4 {
			d := math.Mod(phases[k]-phases[k-4]+540, 360) - 180
			worst = max(worst, math.Abs(d))
		}
	}
	return worst
}

// maxStep returns the largest difference between neighbouring samples.
func maxStep(pcm []int16) float64 {
	var m float64
	for i := 1; i < len(pcm); i++ {
		m = max(m, math.Abs(float64(pcm[i])-float64(pcm[i-1])))
	}
	return m
}

// timelineOffset returns by how many samples, between 0 and 12000 (250 ms), the media timeline
// runs ahead of the output at out[at:at+n]: the shift at which that piece matches sig best.
func timelineOffset(out []int16, at, n int, sig func(n int) float64) int {
	return timelineShift(out, at, n, sig, 0, 12000)
}

// timelineShift is timelineOffset over the shifts from to to, which may be negative (the media
// timeline behind the output, as after the delay grew) down to -at.
func timelineShift(out []int16, at, n int, sig func(n int) float64, from, to int) int {
	ref := make([]float64, n+to-from)
	for i := range ref {
		ref[i] = sig(at + from + i)
	}
	best, bestC := 0, math.Inf(-1)
	for off := from; off <= to; off++ {
		var c float64
		for i, v := range out[at : at+n] {
			c += float64(v) * ref[off-from+i]
		}
		if c > bestC {
			best, bestC = off, c
		}
	}
	return best
}

func TestShrinkingKeepsASinePhase(t *testing.T) {
	// The buffer starts 100 ms late on a clean network; the excess goes as voiced drops once it
	// has waited for a pause in vain. Each is time-compressed: whole periods of the 440 Hz tone
	// go, so its phase runs on (a 20 ms cut turns it by 72 degrees) and nothing clicks.
	out, b, delays := shrinkRun(t, sine(440), 200, nil)
	st := b.Stats()
	t.Logf("stats %+v, held %d", st, b.tick.held)
	if st.Dropped < 4 || st.Accelerated != st.Dropped {
		t.Fatalf("dropped %d, time-compressed %d: want every drop of the 100 ms excess time-compressed", st.Dropped, st.Accelerated)
	}
	if delays[40] < 80*time.Millisecond || st.CurrentDelay > 20*time.Millisecond {
		t.Errorf("delay %v after 0.8 s and %v at the end, want the 100 ms start shrunk below 20 ms", delays[40], st.CurrentDelay)
	}
	// What a cut does, to show that the measures see it.
	tone := make([]int16, 9600)
	for i := range tone {
		n := i
		if i >= 4800 {
			n += codec.FrameSamples
		}
		tone[i] = int16(math.Round(sine(440)(n)))
	}
	cutJump, cutStep := phaseJumps(tone, 440), maxStep(tone)
	jump, step := phaseJumps(out, 440), maxStep(out)
	ideal := 16384 * 2 * math.Sin(math.Pi*440/codec.SampleRate)
	t.Logf("phase jump %.2f degrees (a cut: %.1f), largest step %.0f (the tone's own %.0f, a cut's %.0f)", jump, cutJump, step, ideal, cutStep)
	if jump > 2 || cutJump < 60 {
		t.Errorf("the tone's phase jumps by %.1f degrees, want at most 2", jump)
	}
	if step > 1.05*ideal+2 {
		t.Errorf("largest step between samples %.0f, the tone's own is %.0f: a click", step, ideal)
	}
	// The coherent level over the whole run, as sipleg's end-to-end test measured baresip's
	// recording: a cut per drop spreads the phase and cancels it.
	if lvl := audiotest.ToneLevel(out, codec.SampleRate, 440); lvl < -6.5 {
		t.Errorf("coherent level of the -6 dBFS tone over the run %.1f dBFS", lvl)
	}
	// The timeline really moved by the drops, less what the last squeeze held back.
	early := timelineOffset(out, 0, 2400, sine(440))
	late := timelineOffset(out, len(out)-4800, 2400, sine(440))
	period := codec.SampleRate / 440.0
	want := float64(int(st.Dropped)*codec.FrameSamples - b.tick.held)
	if d := float64(late - early); math.Abs(math.Remainder(d-want, period)) > 1 || b.tick.held >= maxPitchLag {
		t.Errorf("timeline moved by %.0f samples (mod the period), want %.0f (held %d)", d, want, b.tick.held)
	}
}

func TestShrinkingVoiceDoesNotClick(t *testing.T) {
	// A voice-like signal whose pitch glides: each drop removes whole pitch periods of the moment
	// (or cross-fades), the timeline moves by the drops, and no step is larger than the voice's.
	sig := voice()
	out, b, _ := shrinkRun(t, sig, 200, nil)
	st := b.Stats()
	t.Logf("stats %+v, held %d, periodic %d spliced %d", st, b.tick.held, b.tick.accel.periodic, b.tick.accel.spliced)
	if st.Dropped < 4 || st.Accelerated != st.Dropped || st.CurrentDelay > 20*time.Millisecond {
		t.Fatalf("stats %+v: want the 100 ms excess time-compressed away", st)
	}
	src := make([]int16, 200*codec.FrameSamples)
	for i := range src {
		src[i] = int16(math.Round(sig(i)))
	}
	step, own := maxStep(out), maxStep(src)
	t.Logf("largest step %.0f, the voice's own %.0f", step, own)
	if step > 1.1*own {
		t.Errorf("largest step between samples %.0f, the voice's own is %.0f: a click", step, own)
	}
	early := timelineOffset(out, 0, 4800, sig)
	late := timelineOffset(out, len(out)-9600, 4800, sig)
	want := int(st.Dropped)*codec.FrameSamples - b.tick.held
	if late-early != want {
		t.Errorf("timeline moved by %d samples, want %d (held %d)", late-early, want, b.tick.held)
	}
}

func TestShrinkingWaitsForAPause(t *testing.T) {
	// A pause of 200 ms in the second second: the excess waits for it and goes there (at most
	// 60 ms a tick), no voiced packet is dropped.
	pause := func(i int) bool { return i >= 70 && i < 80 }
	_, b, _ := shrinkRun(t, sine(440), 150, pause)
	st := b.Stats()
	t.Logf("stats %+v", st)
	if b.tick.lastVoicedDrop != -1<<62 {
		t.Errorf("a voiced packet was dropped at %v", time.Duration(b.tick.lastVoicedDrop))
	}
	if st.Dropped < 4 || st.CurrentDelay > 20*time.Millisecond {
		t.Errorf("stats %+v: the excess was not dropped in the pause", st)
	}
}

func TestShrinkingWithoutAPauseIsBounded(t *testing.T) {
	// Without any pause the voiced drops start voicedWait after the excess is seen and go every
	// voicedDropInterval: the 100 ms excess is gone within a second of being seen.
	_, b, delays := shrinkRun(t, sine(440), 200, nil)
	first := -1
	for i, d := range delays {
		if i > 0 && d < delays[i-1]-10*time.Millisecond {
			first = i
			break
		}
	}
	if first < 0 {
		t.Fatalf("the delay never shrank: %v", delays)
	}
	done := -1
	for i := first; i < len(delays); i++ {
		if delays[i] <= 20*time.Millisecond {
			done = i
			break
		}
	}
	t.Logf("first drop at tick %d, delay below 20 ms at tick %d; stats %+v", first, done, b.Stats())
	if done < 0 || done-first > 25 {
		t.Errorf("excess shrank from tick %d to %d, want within 0.5 s of the first drop", first, done)
	}
	if waited := time.Duration(b.tick.lastVoicedDrop) - time.Duration(first)*codec.FrameDuration; waited > time.Second {
		t.Errorf("voiced drops went on for %v", waited)
	}
}

// tickAllocs returns the allocations per tick of b over n ticks 20 ms apart: in tick i, 1 ms in,
// it pushes packet(i, a payload made beforehand) unless that says no; 5 ms in it advances and
// reads, as a room does.
func tickAllocs(b *Buffer, n int, packet func(i int, payload []byte) (Packet, bool)) float64 {
	payloads := make([][]byte, n)
	for i := range payloads {
		payloads[i] = fakePayload(i, 960, false)
	}
	var f codec.Frame
	i := 0
	return testing.AllocsPerRun(n-1, func() {
		at := tickTime(i)
		if p, ok := packet(i, payloads[i]); ok {
			_ = b.Push(p, at.Add(time.Millisecond))
		}
		b.Advance(at.Add(5 * time.Millisecond))
		b.Read(&f)
		i++
	})
}

func TestSqueezeAllocatesNothing(t *testing.T) {
	b := newSignalBuffer(t, Config{StartDelay: 100 * time.Millisecond, PayloadTypes: []PayloadType{{Type: 0, Codec: codec.PCMU}}}, sine(440))
	n := tickAllocs(b, 200, func(i int, payload []byte) (Packet, bool) {
		return Packet{PayloadType: 0, SequenceNumber: uint16(i), Timestamp: uint32(i * 160), SSRC: 3,
			Payload: payload, HasLevel: true, Level: -12, Voice: true}, true
	})
	if n != 0 {
		t.Errorf("ticks with time compression allocate %.2f times", n)
	}
	if st := b.Stats(); st.Accelerated == 0 {
		t.Fatalf("no time compression ran: %+v", st)
	}
}

func TestSqueezeOfNoiseCutsExactly(t *testing.T) {
	// Noise has no period: the excess goes whole, at one cross-fade.
	var a accelerator
	x := make([]int16, 3*codec.FrameSamples)
	seed := uint32(1)
	for i := range x {
		seed = seed*1664525 + 1013904223
		x[i] = int16(seed>>16) / 4
	}
	if n := a.squeeze(x, 2*codec.FrameSamples); n != codec.FrameSamples || a.spliced != 1 {
		t.Errorf("noise squeezed to %d samples (spliced %d), want %d", n, a.spliced, codec.FrameSamples)
	}
	clear(x)
	if n := a.squeeze(x, codec.FrameSamples); n != 2*codec.FrameSamples {
		t.Errorf("silence squeezed to %d samples, want %d", n, 2*codec.FrameSamples)
	}
}

func TestShrinkingKeepsTheCoherentLevelOfARealCodec(t *testing.T) {
	// What sipleg's end-to-end test measured in baresip's recording: one Goertzel sum over
	// seconds of a -12 dBFS 440 Hz tone read -29 dBFS after a few 20 ms cuts. Through the real
	// codecs, with the buffer starting 120 ms late, the sum keeps the tone's level.
	for _, c := range []struct {
		codec codec.Codec
		pt    uint8
	}{{codec.PCMU, 0}, {codec.Opus, 111}} {
		enc := mustEncoder(t, codec.Format{Codec: c.codec})
		b, err := New(Config{StartDelay: 120 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		tone := audiotest.NewTone(440, math.Pow(10, -12.0/20), codec.SampleRate)
		var pcm, f codec.Frame
		payload := make([]byte, codec.MaxPayloadSize)
		var out []int16
		clock := c.codec.ClockRate()
		for i := range 200 {
			tone.Fill(pcm[:])
			n, err := enc.Encode(pcm[:], payload)
			if err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				p := Packet{PayloadType: c.pt, SequenceNumber: uint16(i), Timestamp: uint32(i * clock / 50), SSRC: 5, Payload: payload[:n]}
				if err := b.Push(p, tickTime(i).Add(time.Millisecond)); err != nil {
					t.Fatal(err)
				}
			}
			b.Advance(tickTime(i).Add(5 * time.Millisecond))
			if b.Read(&f) || len(out) > 0 {
				out = append(out, f[:]...)
			}
		}
		st := b.Stats()
		out = out[10*codec.FrameSamples:] // past the codec's start
		coherent, median := audiotest.ToneLevel(out, codec.SampleRate, 440), audiotest.MedianToneLevel(out, codec.SampleRate, 440)
		t.Logf("%v: coherent level %.1f dBFS, median %.1f dBFS; stats %+v", c.codec, coherent, median, st)
		if st.Dropped < 4 || st.CurrentDelay > 20*time.Millisecond {
			t.Errorf("%v: stats %+v: want the 120 ms start shrunk", c.codec, st)
		}
		if coherent < median-1 {
			t.Errorf("%v: coherent level %.1f dBFS against %.1f in pieces: the drops turned the tone's phase", c.codec, coherent, median)
		}
	}
}

func TestGrowingKeepsASinePhase(t *testing.T) {
	// Loss on Opus asks for a frame in hand (lossFloor): the delay grows by stretches, which
	// repeat whole periods of the 440 Hz tone, so the packet after them follows without a
	// phase jump. (signalDecoder conceals a lost packet with the signal itself, so that only the
	// growth is judged; a concealment of 20 ms before the next packet would turn the tone by 72
	// degrees.)
	out, b, before := growRun(t, sine(440))
	st := b.Stats()
	jump, step := phaseJumps(out, 440), maxStep(out)
	ideal := 16384 * 2 * math.Sin(math.Pi*440/codec.SampleRate)
	t.Logf("delay %v before the loss, %v after; stretched %d; phase jump %.2f degrees, largest step %.0f (the tone's %.0f); stats %+v",
		before, st.CurrentDelay, b.tick.accel.stretched, jump, step, ideal, st)
	if jump > 2 {
		t.Errorf("the tone's phase jumps by %.1f degrees, want at most 2", jump)
	}
	if step > 1.05*ideal+2 {
		t.Errorf("largest step between samples %.0f, the tone's own is %.0f: a click", step, ideal)
	}
}

func TestGrowingVoiceDoesNotClick(t *testing.T) {
	sig := voice()
	out, b, _ := growRun(t, sig)
	src := make([]int16, 150*codec.FrameSamples)
	for i := range src {
		src[i] = int16(math.Round(sig(i)))
	}
	step, own := maxStep(out), maxStep(src)
	t.Logf("stretched %d; largest step %.0f, the voice's own %.0f", b.tick.accel.stretched, step, own)
	if step > 1.1*own {
		t.Errorf("largest step between samples %.0f, the voice's own is %.0f: a click", step, own)
	}
}

// growRun plays sig as fake Opus packets over a clean network, every third of packets 30 to 50
// lost, and returns what played, the buffer, and the delay before the loss. It fails unless the
// delay grew by stretches.
func growRun(t *testing.T, sig func(n int) float64) ([]int16, *Buffer, time.Duration) {
	t.Helper()
	b := newSignalBuffer(t, Config{StartDelay: time.Nanosecond}, sig)
	var out []int16
	var f codec.Frame
	before := time.Duration(-1)
	for i := range 150 {
		if i < 30 || i > 50 || i%3 != 0 {
			p := opusPacket(3, i, fakePayload(i, 960, false))
			if err := b.Push(p, tickTime(i).Add(time.Millisecond)); err != nil {
				t.Fatal(err)
			}
		}
		b.Advance(tickTime(i).Add(5 * time.Millisecond))
		if b.Read(&f) || len(out) > 0 {
			out = append(out, f[:]...)
		}
		if i == 29 {
			before = b.CurrentDelay()
		}
	}
	if st := b.Stats(); st.CurrentDelay < before+20*time.Millisecond || b.tick.accel.stretched == 0 {
		t.Fatalf("the delay did not grow by stretches: %v to %v, %d stretches", before, st.CurrentDelay, b.tick.accel.stretched)
	}
	return out, b, before
}

func TestStretchLeavesNoSurplus(t *testing.T) {
	// A low voice (pitch about 65 Hz, a 15 ms period): a stretch inserts two whole periods where
	// the tick needed 20 ms, 10 ms more than the playout planned. That surplus is squeezed away in
	// the next tick: the audio's delay grows by what the playout planned, not for the rest of
	// the call by up to a period (a trunk or a cascade never pauses to let it go).
	sig := lowVoice()
	out, b, before := growRun(t, sig)
	after := b.CurrentDelay()
	planned := int((after - before) * codec.SampleRate / time.Second)
	early := timelineShift(out, 4800, 4800, sig, -4800, 4800)
	late := timelineShift(out, len(out)-4800, 4800, sig, -4800, 4800)
	t.Logf("delay %v before, %v after; audio delayed by %d samples more, planned %d; held %d", before, after, early-late, planned, b.tick.held)
	if b.tick.held >= maxSurplus || early-late-planned >= maxSurplus || early-late-planned <= -maxSurplus {
		t.Errorf("the audio's delay grew by %d samples, the playout planned %d (held %d): a stretch's surplus stayed", early-late, planned, b.tick.held)
	}
}

// lowVoice is voice's signal at a pitch gliding between 60 and 70 Hz once a second.
func lowVoice() func(n int) float64 {
	const count = 10 * codec.SampleRate
	phase := make([]float64, count)
	for n := 1; n < count; n++ {
		t := float64(n) / codec.SampleRate
		phase[n] = phase[n-1] + 2*math.Pi*(65+5*math.Sin(2*math.Pi*t))/codec.SampleRate
	}
	return func(n int) float64 {
		var v float64
		for h := 1; h <= 8; h++ {
			v += math.Sin(float64(h)*phase[n%count]) / float64(h)
		}
		return 8000 * v
	}
}

func TestStretchAllocatesNothing(t *testing.T) {
	b := newSignalBuffer(t, Config{StartDelay: time.Nanosecond}, sine(440))
	n := tickAllocs(b, 150, func(i int, payload []byte) (Packet, bool) {
		p := opusPacket(3, i, payload)
		return p, i < 30 || i > 50 || i%3 != 0
	})
	if n != 0 {
		t.Errorf("ticks with stretches allocate %.2f times", n)
	}
	if b.tick.accel.stretched == 0 {
		t.Fatal("no stretch ran")
	}
}

func TestGrowingALowToneKeepsItsPhase(t *testing.T) {
	// Low tones (hum, a low hold-music note): a stretch repeats whole periods, and what it held
	// back beyond the tick, less a whole period the next tick can remove, is left shorter than
	// a period. No lag within it matches the tone, so squeezing it away cross-fades two
	// stretches out of phase (72 to 141 degrees here): the click the stretch avoided. The
	// surplus waits instead.
	for _, freq := range []float64{105, 110, 130, 155} {
		out, b, _ := growRun(t, sine(freq))
		jump, step := phaseJumps(out, freq), maxStep(out)
		ideal := 16384 * 2 * math.Sin(math.Pi*freq/codec.SampleRate)
		t.Logf("%.0f Hz: stretched %d; phase jump %.2f degrees, largest step %.0f (the tone's %.0f); held %d", freq, b.tick.accel.stretched, jump, step, ideal, b.tick.held)
		if jump > 3.5 {
			t.Errorf("%.0f Hz: the tone's phase jumps by %.1f degrees, want at most 3.5", freq, jump)
		}
		if step > 1.05*ideal+2 {
			t.Errorf("%.0f Hz: largest step between samples %.0f, the tone's own is %.0f: a click", freq, step, ideal)
		}
	}
}
