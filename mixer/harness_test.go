package mixer

import (
	"testing"
	"time"

	"confd/codec"
	"confd/testkit/audiotest"
)

var opus20 = codec.Format{Codec: codec.Opus}

// harness runs a mixer tick by tick with fake encoders and records what each listener hears.
type harness struct {
	t     testing.TB
	m     *Mixer
	enc   *fakeFactory
	now   time.Time
	ids   []ID
	heard map[ID][]int16
}

func newHarness(t testing.TB, cfg Config) *harness {
	f := &fakeFactory{}
	cfg.NewEncoder = f.New
	return &harness{t: t, m: New(cfg), enc: f, now: time.Unix(1000, 0), heard: map[ID][]int16{}}
}

// talkerAndListener is a harness of two on Opus at 20 ms: 1 talks (a known 440 Hz tone, returned
// so that the test can pause it) and 2 only listens.
func talkerAndListener(t testing.TB) (*harness, *toneSource) {
	h := newHarness(t, Config{})
	talker := newTone(440, toneAmp, true)
	h.add(1, talker, opus20)
	h.add(2, nil, opus20)
	return h, talker
}

func (h *harness) add(id ID, src Source, f codec.Format) {
	h.t.Helper()
	pc := ParticipantConfig{Format: f}
	if src != nil { // keep a nil *toneSource from becoming a non-nil Source
		pc.Source = src
	}
	if err := h.m.Add(id, pc); err != nil {
		h.t.Fatal(err)
	}
	h.ids = append(h.ids, id)
}

// run ticks n times, appending what each listener heard when record is true.
func (h *harness) run(n int, record bool) {
	for range n {
		h.m.Tick(h.now)
		h.now = h.now.Add(codec.FrameDuration)
		if !record {
			continue
		}
		for _, id := range h.ids {
			out := h.m.Output(id)
			s, ok := h.m.index[id]
			if !ok || h.m.slots[s].format < 0 {
				continue
			}
			f := h.m.formats[h.m.slots[s].format].format
			pcm := h.enc.decode(out, f.Samples()*f.Channels())
			h.heard[id] = append(h.heard[id], pcm...)
		}
	}
}

func (h *harness) reset() { h.heard = map[ID][]int16{} }

// level returns the level in dBFS of freq in what id heard.
func (h *harness) level(id ID, freq float64) float64 {
	return audiotest.ToneLevel(h.heard[id], codec.SampleRate, freq)
}
