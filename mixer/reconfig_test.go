package mixer

import (
	"math"
	"slices"
	"testing"
	"time"

	"confd/codec"
)

func TestSetTopK(t *testing.T) {
	h := newHarness(t, Config{TopK: 1})
	for i := range 6 {
		h.add(ID(i+1), newTone(freqs[i], 0.2-0.02*float64(i), true), opus20)
	}
	h.add(10, nil, opus20)
	h.run(10, false)
	if n := len(h.m.Talkers(nil)); n != 2 {
		t.Fatalf("%d talkers with K=1", n)
	}
	h.m.SetTopK(5)
	h.run(10, false)
	if n := len(h.m.Talkers(nil)); n != 6 {
		t.Fatalf("%d talkers after K=5", n)
	}
	h.reset()
	h.run(10, true)
	for j := range 5 { // the listener hears the five loudest
		if got := h.level(10, freqs[j]); math.Abs(got-20*math.Log10(0.2-0.02*float64(j))) > 1 {
			t.Errorf("K=5: listener hears %v Hz at %.1f dBFS", freqs[j], got)
		}
	}
	h.m.SetTopK(2)
	h.run(2, false)
	got := h.m.Talkers(nil)
	slices.Sort(got)
	if !slices.Equal(got, []ID{1, 2, 3}) {
		t.Errorf("talkers after K=2: %v", got)
	}
}

func TestSetFormat(t *testing.T) {
	h := newHarness(t, Config{})
	h.add(1, newTone(440, toneAmp, true), opus20)
	h.add(2, newTone(1000, toneAmp, true), opus20)
	h.run(10, false)
	pcmu := codec.Format{Codec: codec.PCMU, PacketTime: 40 * time.Millisecond}
	must(t, h.m.SetFormat(2, pcmu))
	must(t, h.m.SetFormat(2, pcmu)) // no change
	h.reset()
	h.run(10, true)
	if got := h.level(2, 440); math.Abs(got-toneDB) > 1 {
		t.Errorf("after a format change, 2 hears 1 at %.1f dBFS", got)
	}
	if out := h.m.Output(2); out.TimestampStep != 320 && out.Due {
		t.Errorf("timestamp step %d for 40 ms PCMU", out.TimestampStep)
	}
	must(t, h.m.SetFormat(2, codec.Format{}))
	h.run(2, false)
	if out := h.m.Output(2); out.Due || out.Payload != nil {
		t.Errorf("a participant without a format got %+v", out)
	}
	if err := h.m.SetFormat(9, opus20); err == nil {
		t.Error("SetFormat of an unknown participant succeeded")
	}
	if err := h.m.SetFormat(1, codec.Format{Codec: codec.Opus, Bitrate: 1}); err == nil {
		t.Error("SetFormat with a bad format succeeded")
	}
}
