package mixer

import (
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"confd/codec"
)

func TestHoldKeepsATalkerThroughPauses(t *testing.T) {
	h, a := talkerAndListener(t)
	h.run(10, false)
	a.paused = true
	held := 0
	for range 30 {
		h.run(1, false)
		if !slices.Contains(h.m.Talkers(nil), 1) {
			break
		}
		held++
	}
	// Talking through ten silent ticks (200 ms), out at the eleventh.
	if held != 10 {
		t.Errorf("talker held for %d ticks after its voice stopped, want 10 (200 ms)", held)
	}
}

func TestSwitchNeedsAMargin(t *testing.T) {
	// K=1: two places, the louder one in the shared mix. A third talker must be 3 dB louder
	// than the quietest of them to get in.
	h := newHarness(t, Config{TopK: 1})
	h.add(1, newTone(440, 0.1, true), opus20)
	h.add(2, newTone(700, 0.1, true), opus20)
	c := newTone(1000, 0.12, true) // +1.6 dB: not enough
	c.quiet = 20
	h.add(3, c, opus20)
	h.add(4, nil, opus20)
	h.run(40, false)
	if got := h.m.Talkers(nil); slices.Contains(got, 3) {
		t.Fatalf("a talker 1.6 dB louder took a place: %v", got)
	}
	c.tone = newTone(1000, 0.15, true).tone // +3.5 dB
	h.run(5, false)
	if got := h.m.Talkers(nil); !slices.Contains(got, 3) || len(got) != 2 {
		t.Fatalf("a talker 3.5 dB louder did not take a place: %v", got)
	}
	h.reset()
	h.run(5, true)
	if got := h.level(4, 1000); got < -20 {
		t.Errorf("the loudest talker is not in the shared mix: %.1f dBFS", got)
	}
}

func TestDecodesOnlyWhatIsNeeded(t *testing.T) {
	h := newHarness(t, Config{})
	talker := newTone(440, toneAmp, true)
	h.add(1, talker, opus20)
	unknown := newTone(700, toneAmp, false)
	unknown.paused = true // silent, but its level is unknown: decoded every tick
	h.add(2, unknown, opus20)
	var quiet []*toneSource
	for i := range 20 {
		q := newTone(1000, toneAmp, true)
		q.paused = true
		quiet = append(quiet, q)
		h.add(ID(10+i), q, opus20)
	}
	h.run(50, false)
	if talker.reads != 48 { // from its first loud tick on
		t.Errorf("talker read %d times in 50 ticks", talker.reads)
	}
	if unknown.reads != 50 {
		t.Errorf("unknown-level source read %d times in 50 ticks", unknown.reads)
	}
	for _, q := range quiet {
		if q.reads != 0 {
			t.Fatalf("a silent participant with a known level was read %d times", q.reads)
		}
	}
	if st := h.m.Stats(); st.DecodesLastTick != 2 {
		t.Errorf("decodes per tick %d, want 2", st.DecodesLastTick)
	}
}

func TestCoachWhispersToATalkingTarget(t *testing.T) {
	h := newHarness(t, Config{})
	h.add(1, newTone(440, toneAmp, true), opus20)  // the target, talking
	h.add(2, newTone(700, toneAmp, false), opus20) // another talker
	h.add(3, newTone(1000, toneAmp, true), opus20) // the coach
	h.add(4, nil, opus20)
	must(t, h.m.SetRole(3, RoleCoach, 1))
	h.run(10, false)
	h.reset()
	h.run(10, true)
	want := map[[2]ID]bool{
		{1, 1}: false, {1, 2}: true, {1, 3}: true, // the target hears the other and its coach
		{2, 1}: true, {2, 3}: false,
		{3, 1}: true, {3, 2}: true, // the coach hears the room
		{4, 1}: true, {4, 2}: true, {4, 3}: false,
	}
	f := map[ID]float64{1: 440, 2: 700, 3: 1000}
	for k, w := range want {
		got := h.level(k[0], f[k[1]])
		if heard := got > toneDB-1; heard != w || (!w && got > toneDB-30) {
			t.Errorf("listener %d hears %d at %.1f dBFS, want heard=%v", k[0], k[1], got, w)
		}
	}
}

func TestStateCopierReplacesPriming(t *testing.T) {
	f := &fakeFactory{}
	var copies int
	m := New(Config{NewEncoder: func(fm codec.Format) (codec.Encoder, error) {
		e, err := f.New(fm)
		return &copyingEncoder{e.(*fakeEncoder), &copies}, err
	}})
	now := time.Unix(0, 0)
	must(t, m.Add(1, ParticipantConfig{Source: newTone(440, toneAmp, true), Format: opus20}))
	must(t, m.Add(2, ParticipantConfig{Format: opus20}))
	for range 10 {
		m.Tick(now)
		now = now.Add(codec.FrameDuration)
	}
	must(t, m.SetGain(2, 1, 0.5))
	m.Tick(now)
	if copies != 1 {
		t.Errorf("%d state copies for one switch", copies)
	}
	// Listener 2's private encode and talker 1's silent group (it is alone): no priming.
	if st := m.Stats(); st.EncodesLastTick != 2 {
		t.Errorf("encodes in the switching tick: %d, want 2 (no priming)", st.EncodesLastTick)
	}
}

type copyingEncoder struct {
	*fakeEncoder
	copies *int
}

func (e *copyingEncoder) CopyStateFrom(src codec.Encoder) error {
	*e.copies++
	e.count = src.(*copyingEncoder).count
	return nil
}

func TestStatsMayBeReadConcurrently(t *testing.T) {
	h, _ := talkerAndListener(t)
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
				_ = h.m.Stats()
			}
		}
	}()
	h.run(50, false)
	close(done)
	wg.Wait()
	if st := h.m.Stats(); st.Ticks != 50 || st.Participants != 2 || st.Talkers != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestPremixedSourceEntersUnfadedFromSilence: a talker that starts after silence is faded in
// over its first frame, except a Premixed source (a cascade leg from another node), whose far
// end faded it in already: its first frame is heard at full level, not ramped a second time.
func TestPremixedSourceEntersUnfadedFromSilence(t *testing.T) {
	firstFrame := func(premixed bool) float64 {
		h := newHarness(t, Config{})
		src := newTone(440, 0.3, false)
		src.quiet = 10
		if err := h.m.Add(1, ParticipantConfig{Source: src, Format: opus20, Premixed: premixed}); err != nil {
			t.Fatal(err)
		}
		h.ids = append(h.ids, 1)
		h.add(2, nil, opus20)
		h.run(12, true)
		heard := h.heard[2]
		rms := func(f []int16) float64 {
			var sum float64
			for _, s := range f {
				sum += float64(s) * float64(s)
			}
			return math.Sqrt(sum / float64(len(f)))
		}
		first, second := heard[10*codec.FrameSamples:11*codec.FrameSamples], heard[11*codec.FrameSamples:]
		return rms(first) / rms(second)
	}
	if r := firstFrame(false); r > 0.7 {
		t.Errorf("a person's first frame at %.2f of the next one's level, want faded in (about 0.58)", r)
	}
	if r := firstFrame(true); r < 0.95 {
		t.Errorf("a premixed source's first frame at %.2f of the next one's level, want it whole", r)
	}
}
