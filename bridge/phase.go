package bridge

import (
	"slices"
	"time"

	"confd/mixer"
)

// Tick phasing (DESIGN-NOTES "Wait for the talkers, not for everyone"): audio waits for the next
// tick, 10 ms on average when the tick's phase is random against the talker's packets. Only the
// loudest talker's arrival phase matters to what everyone hears, so the room measures how long
// that talker's packets wait for the tick and slides its clock so that they arrive just before
// it. A network that jitters spreads the waits over the whole frame, and then phasing neither
// helps nor harms.
const (
	// phaseWindow is how many ticks of waits one adjustment looks at (one second).
	phaseWindow = 50
	// phaseMargin is the wait the room aims for at the shortest wait of a window: even the
	// latest packet of the last second made its tick with this much to spare.
	phaseMargin = 5 * time.Millisecond
	// phaseRank picks, among a window of sorted waits, the one the margin protects: the
	// shortest, so that phasing never makes a packet miss a tick it would have made (the jitter
	// buffer's own target then covers the rest of the jitter, as with any phase).
	phaseRank = 0
	// phaseDeadband is the error below which the phase is left alone.
	phaseDeadband = time.Millisecond
)

// phaser collects the loudest talker's waits and proposes clock shifts.
type phaser struct {
	waits   [phaseWindow]time.Duration
	n       int
	sorted  [phaseWindow]time.Duration
	talkers []mixer.ID
}

// observe records, after the tick at due, how long the loudest talker's last packet waited for
// it, and returns a shift of the clock (positive: ticks come earlier) once a window is full.
func (ph *phaser) observe(r *Room, due time.Time) time.Duration {
	ph.talkers = r.mix.Talkers(ph.talkers[:0])
	var loudest *Participant
	for _, id := range ph.talkers {
		if p := r.byMixID[id]; p != nil && (loudest == nil || r.mix.Level(id) > r.mix.Level(loudest.mid)) {
			loudest = p
		}
	}
	if loudest == nil {
		ph.n = 0
		return 0
	}
	wait := due.Sub(time.Unix(0, loudest.lastMedia.Load()))
	if wait < 0 && wait > -20*time.Millisecond {
		// It came after this tick was due (the tick reads its legs when it runs, a little
		// later): it waits for the next one. Left out, the talker whose packets miss the tick
		// by a hair, a whole frame of delay, was the one case the phaser never saw.
		wait += 20 * time.Millisecond
	}
	if wait < 0 || wait >= 2*20*time.Millisecond {
		return 0 // no packet in the last two frames: nothing to phase against
	}
	ph.waits[ph.n] = wait % (20 * time.Millisecond)
	ph.n++
	if ph.n < phaseWindow {
		return 0
	}
	ph.n = 0
	ph.sorted = ph.waits
	slices.Sort(ph.sorted[:])
	short := ph.sorted[phaseRank]
	if err := short - phaseMargin; err > phaseDeadband || err < -phaseDeadband {
		return err
	}
	return 0
}
