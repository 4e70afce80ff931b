package mixer

import (
	"errors"
	"math"
	"testing"

	"confd/codec"
)

// halver is a Processor that halves the frame and records how it was called.
type halver struct {
	calls, resumes int
}

func (h *halver) Process(f *codec.Frame, continues bool) {
	h.calls++
	if !continues {
		h.resumes++
	}
	for i := range f {
		f[i] /= 2
	}
}

// TestProcessorRunsOnMixedTalkersOnly: a talker's Processor shapes what the others hear of it
// (halved: 6 dB down), once a tick while it is mixed; it is told when its talker comes back after
// ticks it was not mixed; a silent participant's Processor and a removed one are never called.
func TestProcessorRunsOnMixedTalkersOnly(t *testing.T) {
	h := newHarness(t, Config{TopK: 3})
	talker := newTone(1000, toneAmp, false)
	quiet := &toneSource{silent: true}
	h.add(1, talker, opus20)
	h.add(2, quiet, opus20)
	h.add(3, nil, opus20)
	var pt, pq halver
	must(t, h.m.SetProcessor(1, &pt))
	must(t, h.m.SetProcessor(2, &pq))
	h.run(10, false)
	h.run(50, true)
	if got, want := h.level(3, 1000), 20*math.Log10(toneAmp/2); math.Abs(got-want) > 1 {
		t.Errorf("the listener hears the processed talker at %.1f dB, want %.1f (halved)", got, want)
	}
	if pt.calls < 50 || pt.calls > 60 || pt.resumes != 1 {
		t.Errorf("talker's processor: %d calls, %d resumes over 60 ticks; want one a tick while mixed, one resume", pt.calls, pt.resumes)
	}
	if pq.calls != 0 {
		t.Errorf("a silent participant's processor ran %d times", pq.calls)
	}
	// A pause long enough to leave the mix (hold and fade), then talk again: one more resume.
	talker.paused = true
	h.run(50, false)
	paused := pt.calls
	h.run(20, false)
	if pt.calls != paused {
		t.Errorf("the processor ran %d times while its talker was out of the mix", pt.calls-paused)
	}
	talker.paused = false
	h.run(20, false)
	if pt.resumes != 2 {
		t.Errorf("resumes %d after the talker came back, want 2", pt.resumes)
	}
	must(t, h.m.SetProcessor(1, nil))
	n := pt.calls
	h.run(10, false)
	if pt.calls != n {
		t.Errorf("a removed processor ran %d more times", pt.calls-n)
	}
	if err := h.m.SetProcessor(99, &pt); !errors.Is(err, ErrUnknownParticipant) {
		t.Errorf("SetProcessor on an unknown participant: %v", err)
	}
}

// TestTickWithProcessorsAllocatesNothing: the hook adds no allocation to the tick.
func TestTickWithProcessorsAllocatesNothing(t *testing.T) {
	h := newHarness(t, Config{TopK: 3})
	srcs := []*toneSource{newTone(freqs[0], toneAmp, false), newTone(freqs[1], toneAmp, true)}
	for i, s := range srcs {
		h.add(ID(i+1), s, opus20)
		must(t, h.m.SetProcessor(ID(i+1), &halver{}))
	}
	step := 0
	tick := func() {
		step++
		srcs[0].paused = step/15%2 == 0
		h.run(1, false)
	}
	for range 100 {
		tick()
	}
	if a := testing.AllocsPerRun(200, tick); a != 0 {
		t.Errorf("Tick with processors allocates %v times per run", a)
	}
}

// TestProcessorsAreBoundedByTopK (red team, issue 13): noise suppression costs about 60 µs per
// processed talker per tick, so turning it on for everyone must not make a room of talkers
// cost that many times over. With 40 participants all talking at once, each with a
// Processor, and top_k 3, a tick runs at most top_k (plus the one held over while a new
// talker takes a place) processors.
func TestProcessorsAreBoundedByTopK(t *testing.T) {
	h := newHarness(t, Config{TopK: 3})
	procs := make([]*halver, 40)
	for i := range procs {
		id := ID(i + 1)
		h.add(id, newTone(300+float64(i)*37, toneAmp*float64(i+1)/40, false), opus20)
		procs[i] = &halver{}
		must(t, h.m.SetProcessor(id, procs[i]))
	}
	h.add(100, nil, opus20) // a listener
	const ticks = 100
	h.run(ticks, false)
	total := 0
	for _, p := range procs {
		total += p.calls
	}
	if perTick := float64(total) / ticks; perTick > 4 {
		t.Errorf("%.1f processors run per tick with 40 talkers and top_k 3, want at most 4", perTick)
	}
	t.Logf("%d processor calls in %d ticks for 40 talkers, top_k 3", total, ticks)
}
