package jitter

import "testing"

// TestProbation: a new source or new numbering is believed on its second packet in a row, never
// on one alone, and another packet between the two starts the doubt again.
func TestProbation(t *testing.T) {
	var p Probation
	check := func(what string, ssrc uint32, wantTake, wantRestart bool) {
		t.Helper()
		if take, restart := p.Source(ssrc); take != wantTake || restart != wantRestart {
			t.Errorf("%s: take %v restart %v, want %v %v", what, take, restart, wantTake, wantRestart)
		}
	}
	check("first packet", 1, true, false)
	check("own packet", 1, true, false)
	check("a stray", 9, false, false)
	check("own packet after the stray", 1, true, false)
	check("the stray again, not in a row", 9, false, false)
	check("another stray", 8, false, false)
	check("its second in a row", 8, true, true)
	check("the new source's packet", 8, true, false)
	check("the old source's", 1, false, false)

	if p.Jump(5000) {
		t.Error("a jump believed on its first packet")
	}
	if p.Jump(7000) {
		t.Error("a second, unrelated jump believed")
	}
	if !p.Jump(7001) {
		t.Error("a jump not believed when the next packet follows it")
	}
	if p.Jump(7002) {
		t.Error("a believed jump left a probation behind")
	}
}

// TestProbationAllocatesNothing: it runs per packet.
func TestProbationAllocatesNothing(t *testing.T) {
	var p Probation
	ssrc := uint32(0)
	if a := testing.AllocsPerRun(1000, func() { ssrc++; p.Source(ssrc); p.Jump(uint16(ssrc)) }); a != 0 {
		t.Errorf("%v allocations", a)
	}
}
