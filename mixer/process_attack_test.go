package mixer

import "testing"

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
