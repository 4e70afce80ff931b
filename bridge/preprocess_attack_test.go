package bridge

import (
	"testing"
	"time"

	"confd/dsp"
	"confd/testkit"
)

// TestPreprocessorsAreFreedHoweverTheyEnd (red team, issue 13): a speexdsp state is C memory
// that Go's collector never frees. Participants of a denoise room that PATCH it on and off,
// are moved between denoise rooms back and forth, leave, or are still there at shutdown leave
// no state behind.
func TestPreprocessorsAreFreedHoweverTheyEnd(t *testing.T) {
	base := dsp.Live()
	b := New(Config{Rooms: map[string]RoomSettings{"quiet": {Denoise: true}, "quiet2": {Denoise: true, AGC: true}}})
	var parts []*Participant
	for i := range 40 {
		p := mustJoin(t, b, "quiet", pcmuInfo("p"), &fakeLeg{})
		parts = append(parts, p)
		off, on := false, true
		r := p.Room()
		for range 5 {
			_, _ = r.Update(p.ID(), Change{Denoise: &off})
			_, _ = r.Update(p.ID(), Change{Denoise: &on, AGC: &on})
		}
		if i%2 == 0 {
			for range 3 {
				if _, err := b.Move(p.Room().Name(), p.ID(), MoveRequest{Room: "quiet2"}); err != nil {
					t.Fatal(err)
				}
				if _, err := b.Move("quiet2", p.ID(), MoveRequest{Room: "quiet"}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if got := dsp.Live() - base; got != 40 {
		t.Errorf("%d speexdsp states for 40 denoised participants", got)
	}
	for _, p := range parts[:20] {
		p.Leave("bye")
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return dsp.Live()-base == 20 })
	b.Close() // the other 20 are still in the room
	testkit.Eventually(t, 5*time.Second, func() bool { return dsp.Live() == base })
}
