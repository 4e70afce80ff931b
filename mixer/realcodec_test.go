package mixer

import (
	"math"
	"testing"
	"time"

	"confd/codec"
	"confd/testkit/audiotest"
)

// realListener decodes one participant's payloads with the real decoder of its codec, as its
// leg's far end would, concealing the packets the encoder chose not to send.
type realListener struct {
	dec codec.Decoder
	pcm []int16
	buf [codec.MaxPacketSamples]int16
}

func (r *realListener) take(t *testing.T, out Output, samples int) {
	t.Helper()
	n, err := out.Decode(r.dec, r.buf[:], samples)
	if err != nil {
		t.Fatal(err)
	}
	r.pcm = append(r.pcm, r.buf[:n]...)
}

func newRealMixer(t *testing.T, cfg Config) (*Mixer, map[ID]*realListener) {
	cfg.NewEncoder = codec.NewEncoder
	return New(cfg), map[ID]*realListener{}
}

func addReal(t *testing.T, m *Mixer, ls map[ID]*realListener, id ID, src Source, f codec.Format) {
	t.Helper()
	pc := ParticipantConfig{Format: f}
	if src != nil {
		pc.Source = src
	}
	must(t, m.Add(id, pc))
	dec, err := codec.NewDecoder(f.Codec)
	must(t, err)
	ls[id] = &realListener{dec: dec}
}

func runReal(t *testing.T, m *Mixer, ls map[ID]*realListener, now *time.Time, ticks int) {
	for range ticks {
		m.Tick(*now)
		*now = now.Add(codec.FrameDuration)
		for id, l := range ls {
			s := m.index[id]
			l.take(t, m.Output(id), m.formats[m.slots[s].format].format.Samples())
		}
	}
}

func TestRealCodecsMinusOne(t *testing.T) {
	m, ls := newRealMixer(t, Config{})
	now := time.Unix(0, 0)
	pcmu := codec.Format{Codec: codec.PCMU}
	opus40 := codec.Format{Codec: codec.Opus, PacketTime: 40 * time.Millisecond}
	addReal(t, m, ls, 1, newTone(440, toneAmp, true), opus20)
	addReal(t, m, ls, 2, newTone(700, toneAmp, false), pcmu)
	addReal(t, m, ls, 3, newTone(1000, toneAmp, true), opus40)
	addReal(t, m, ls, 4, nil, opus20)
	addReal(t, m, ls, 5, nil, pcmu)
	runReal(t, m, ls, &now, 50)
	tones := map[ID]float64{1: 440, 2: 700, 3: 1000}
	for id, l := range ls {
		tail := l.pcm[len(l.pcm)-20*codec.FrameSamples:]
		for sp, f := range tones {
			got := audiotest.ToneLevel(tail, codec.SampleRate, f)
			if sp == id && got > toneDB-30 {
				t.Errorf("listener %d hears itself (%v Hz) at %.1f dBFS", id, f, got)
			}
			if sp != id && math.Abs(got-toneDB) > 2 {
				t.Errorf("listener %d hears %v Hz at %.1f dBFS, want %.0f", id, f, got, toneDB)
			}
		}
	}
	if st := m.Stats(); st.EncodeErrors != 0 {
		t.Errorf("encode errors: %+v", st)
	}
}

// TestRealOpusGroupSwitch moves a listener from the shared encoder to its own and back, through
// a real Opus encoder and decoder, and measures the click as the drop in the tone's SNR over
// the frames around each switch.
func TestRealOpusGroupSwitch(t *testing.T) {
	measure := func(t *testing.T, noPrime bool) (steady, into, back float64) {
		m, ls := newRealMixer(t, Config{})
		m.noPrime = noPrime
		now := time.Unix(0, 0)
		addReal(t, m, ls, 1, newTone(440, toneAmp, true), opus20)
		addReal(t, m, ls, 2, nil, opus20)
		addReal(t, m, ls, 3, nil, opus20)
		runReal(t, m, ls, &now, 50)
		l := ls[2]
		steady = worstSNR(l.pcm[len(l.pcm)-10*codec.FrameSamples:], 440)
		// A gain that changes nothing audible still gives listener 2 a custom row.
		must(t, m.SetGain(2, 1, 0.999))
		at := len(l.pcm)
		runReal(t, m, ls, &now, 10)
		if g := m.OutputGroup(2); g[:7] != "private" {
			t.Fatalf("listener 2 in %q", g)
		}
		into = worstSNR(l.pcm[at-4*codec.FrameSamples:at+4*codec.FrameSamples], 440)
		m.ClearGain(2, 1)
		at = len(l.pcm)
		runReal(t, m, ls, &now, 40)
		if g := m.OutputGroup(2); g[:6] != "shared" {
			t.Fatalf("listener 2 still in %q", g)
		}
		back = worstSNR(l.pcm[at:], 440)
		return
	}
	steady, into, back := measure(t, false)
	_, rawInto, _ := measure(t, true)
	t.Logf("tone SNR through Opus: steady %.1f dB; switch to a private encoder %.1f dB (unprimed %.1f dB); back to the shared one %.1f dB",
		steady, into, rawInto, back)
	// A switch of encoder state can never be better than the steady stream; what priming must
	// buy is the difference between a click and a blemish 25 dB below the tone.
	if into < 24 || back < 30 || into < rawInto+15 {
		t.Errorf("encoder switches leave the tone at %.1f / %.1f dB SNR (unprimed %.1f)", into, back, rawInto)
	}
}

// worstSNR returns the lowest SNR of the tone over 10 ms windows (half-overlapping) of pcm.
func worstSNR(pcm []int16, freq float64) float64 {
	worst := math.Inf(1)
	const w = codec.SampleRate / 100
	for i := 0; i+w <= len(pcm); i += w / 2 {
		worst = math.Min(worst, audiotest.SNR(pcm[i:i+w], codec.SampleRate, freq))
	}
	return worst
}

// TestRealOpusReturnToAnIdleSharedEncoder: in a room of two talkers nobody listens to the shared
// group, so its encoder sits idle; when one stops talking it returns to that encoder, which must
// be brought up to date first.
func TestRealOpusReturnToAnIdleSharedEncoder(t *testing.T) {
	m, ls := newRealMixer(t, Config{})
	now := time.Unix(0, 0)
	a, b := newTone(440, toneAmp, true), newTone(1000, toneAmp, true)
	addReal(t, m, ls, 1, a, opus20)
	addReal(t, m, ls, 2, b, opus20)
	runReal(t, m, ls, &now, 50)
	if g := m.OutputGroup(2); g[:7] != "private" {
		t.Fatalf("talker 2 in %q", g)
	}
	b.paused = true
	at := len(ls[2].pcm)
	runReal(t, m, ls, &now, 60)
	if g := m.OutputGroup(2); g[:6] != "shared" {
		t.Fatalf("listener 2 still in %q", g)
	}
	snr := worstSNR(ls[2].pcm[at:], 440)
	t.Logf("worst SNR of the tone as listener 2 returns to the shared encoder: %.1f dB", snr)
	if snr < 24 {
		t.Errorf("returning to an idle shared encoder leaves the tone at %.1f dB SNR", snr)
	}
}
