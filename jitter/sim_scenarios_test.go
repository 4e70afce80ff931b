package jitter

import (
	"testing"
	"time"
)

func TestCleanNetworkAddsAtMostOneFrame(t *testing.T) {
	for _, phase := range []time.Duration{0, 1 * time.Millisecond, 7 * time.Millisecond, 13 * time.Millisecond, 19900 * time.Microsecond} {
		b, _ := newFakeBuffer(t, Config{})
		sim := simulate(t, b, network{seed: 1, base: 30 * time.Millisecond}, 10*time.Second, phase)
		st := b.Stats()
		worst := maxDuration(sim.delays, 100) // after 2 s, once the start-up estimate is gone
		t.Logf("phase %v: worst delay %v, first %v, stats %+v", phase, worst, sim.delays[:3], st)
		if worst > 20*time.Millisecond {
			t.Errorf("phase %v: delay up to %v on a clean network, want at most one frame", phase, worst)
		}
		if st.Lost != 0 || st.Late != 0 || sim.stalls != 0 {
			t.Errorf("phase %v: lost %d late %d stalls %d on a clean network", phase, st.Lost, st.Late, sim.stalls)
		}
	}
}

func TestUniformJitterLosesFewLatePackets(t *testing.T) {
	b, _ := newFakeBuffer(t, Config{})
	sim := simulate(t, b, network{seed: 2, base: 30 * time.Millisecond, jitter: uniformJitter(30 * time.Millisecond)}, 60*time.Second, 5*time.Millisecond)
	st := b.Stats()
	late := float64(st.Late) / float64(st.Pushed)
	t.Logf("late %.3f%%, stats %+v, worst delay %v", 100*late, st, maxDuration(sim.delays, 100))
	if late > 0.01 {
		t.Errorf("late loss %.2f%% with 30 ms uniform jitter, want at most 1%%", 100*late)
	}
}
