package bridge

import (
	"slices"
	"time"

	"confd/codec"
	"confd/mixer"
)

// Tick phasing (DESIGN-NOTES "Wait for the talkers, not for everyone"): audio waits for the next
// tick, 10 ms on average when the tick's phase is random against the talker's packets. Only the
// talkers' arrival phases matter to what everyone hears, so the room measures how long the
// packets of those who are talking wait for the tick and slides its clock so that the tick comes
// just after them.
//
// The waits of several talkers lie on a circle of one frame: a talker whose packets come just
// after a tick waits almost a whole frame, one whose packets come just before it waits next to
// nothing (and, as the jitter buffer wants a little in hand, may in fact wait a whole frame
// more). The tick belongs in the largest gap between the talkers' arrivals: the phaser finds
// that gap among the waits of a window and puts the tick phaseMargin after its end, or in its
// middle when it is narrower than twice that. For one talker this is phaseMargin after its
// packets; for three taking turns at a third of a frame from each other it serves all three,
// where following only the loudest left one of them a frame behind (bench/load's per-talker
// breakdown: 21 ms of packet delay for one talker of three, 8 and 15 ms for the others).
const (
	// phaseWindow is how many ticks of waits one adjustment looks at (one second).
	phaseWindow = 50
	// leadWindow is phaseWindow for a room phased on its cascades (200 ms), taken only while
	// the clock is not moving: a cascade sends every frame, so a fifth of a second holds ten
	// waits of each, and the owner must follow the calling node's clock, which moves when that
	// node's own talkers make it, before the other way's slack of about half a frame is used
	// up. With a second's window, Cy heard Ada through the cascade 23-28 ms late in about a
	// fifth of the turns, as a lag behind the calling node's clock would make him.
	leadWindow = 10
	// phaseWaits is how many waits a window keeps: up to four talking talkers' in every tick.
	phaseWaits = 4 * phaseWindow
	// phaseMargin is the wait the room aims for at the shortest wait of a window: even the
	// latest packet of the last second made its tick with this much to spare.
	phaseMargin = 5 * time.Millisecond
	// phaseDeadband is the error below which the phase is left alone.
	phaseDeadband = time.Millisecond
	// phaseFrame is the period of the waits: the room's tick.
	phaseFrame = codec.FrameDuration
)

// Cascades between nodes (README "Several nodes"): a cascade leg carries a whole node's voices,
// and its packets leave the calling node on that node's ticks, so they arrive on the owner at one
// phase whether anyone talks or not (the leg sends no DTX: PhaseLead). A voice crossing the
// cascade waits for the owner's tick one way and for the calling node's the other, and the two
// waits add up to a frame less what the packets take beyond their ticks' due times both ways
// (each sending tick running late and encoding, and the hop): the owner puts its tick about
// halfway between the calling node's, leadWait after the cascade's latest packets, so that each
// way waits a little under half a frame, where a tick phased on the talkers sat anywhere against
// the cascade after a silence and made one way wait up to a frame. It does so always, not only
// while the cascade talks, and on the cascades alone, so that its clock does not move when the
// talk passes from one node to another; local talkers then wait for the tick at whatever phase
// the cascades leave them, as in a room without phasing. The calling node phases on its own
// talkers and never on its cascade leg to the owner (PhaseNever): were both ends to follow each
// other, each would keep moving to just after the other's packets and their clocks would slide
// without end.
//
// leadWait is short of half a frame because the other way pays those overheads: with the
// latest packet waiting half a frame (a typical one 11-12 ms), TestClusterCascadeAddedLatency
// measured 17.5 ms added from the calling node to the owner and 7 ms back on a busy machine,
// where ticks run late by milliseconds. 7.5 ms splits such a machine's budget about evenly and,
// by the same arithmetic, an idle one's (overheads near nothing) at about 10 and 15 ms: never
// near a frame either way.
const (
	leadWait   = 3 * phaseFrame / 8
	leadOffset = leadWait - phaseMargin
)

// Phasing says how the room's tick phasing treats a participant's packets.
type Phasing uint8

const (
	// PhaseTalking phases the tick on the participant's packets while it talks: a person.
	PhaseTalking Phasing = iota
	// PhaseLead phases the tick leadWait after the participant's packets whether it talks
	// or not, and on such participants alone while any sends: a cascade leg from another node,
	// on the owner of the room.
	PhaseLead
	// PhaseNever leaves the participant out of phasing: a cascade leg to the owner, on the
	// node that called it.
	PhaseNever
)

// phaser collects the talking talkers' waits and proposes clock shifts.
type phaser struct {
	waits   [phaseWaits]time.Duration
	n       int // waits kept in this window
	ticks   int // ticks in this window
	talkers []mixer.ID
	leads   []*Participant // the room's PhaseLead participants, kept by join and leave
}

// join and leave keep the list of the room's PhaseLead participants; the room's owner calls
// them.
func (ph *phaser) join(p *Participant) {
	if p.info.Phasing == PhaseLead {
		ph.leads = append(ph.leads, p)
	}
}

func (ph *phaser) leave(p *Participant) {
	if i := slices.Index(ph.leads, p); i >= 0 {
		ph.leads = slices.Delete(ph.leads, i, i+1)
	}
}

// wait returns how long p's last packet waited for the tick at due, and false when p sent
// nothing in the last two frames.
func wait(p *Participant, due time.Time) (time.Duration, bool) {
	w := due.Sub(time.Unix(0, p.lastMedia.Load()))
	if w < 0 && w > -phaseFrame {
		// It came after this tick was due (the tick reads its legs when it runs, a little
		// later): it waits for the next one.
		w += phaseFrame
	}
	if w < 0 || w >= 2*phaseFrame {
		return 0, false // no packet in the last two frames: nothing to phase against
	}
	return w % phaseFrame, true
}

// keep records one wait of this window.
func (ph *phaser) keep(w time.Duration) {
	if ph.n < len(ph.waits) {
		ph.waits[ph.n] = w
		ph.n++
	}
}

// observe records, after the tick at due, how long the last packet of every PhaseLead
// participant that sends, or else of every PhaseTalking talker who is talking, waited for it,
// and returns a shift of the clock (positive: ticks come earlier) once a window is full. A lead's
// wait is kept leadOffset short, so that the tick the gap search puts phaseMargin after it comes
// leadWait after its packets. It allocates nothing.
func (ph *phaser) observe(r *Room, due time.Time) time.Duration {
	found := false
	for _, p := range ph.leads {
		if w, ok := wait(p, due); ok {
			found = true
			ph.keep((w + phaseFrame - leadOffset) % phaseFrame)
		}
	}
	leading := found
	if !leading {
		ph.talkers = r.mix.Talkers(ph.talkers[:0])
	} else {
		ph.talkers = ph.talkers[:0]
	}
	for _, id := range ph.talkers {
		p := r.byMixID[id]
		if p == nil || p.info.Phasing != PhaseTalking || !r.mix.Talking(id) {
			continue
		}
		if w, ok := wait(p, due); ok {
			found = true
			ph.keep(w)
		}
	}
	if !found || (leading && r.clock.Pending() != 0) {
		ph.n, ph.ticks = 0, 0 // nothing to phase on, or waits that the moving clock blurs
		return 0
	}
	window := phaseWindow
	if leading {
		window = leadWindow
	}
	if ph.ticks++; ph.ticks < window {
		return 0
	}
	err := phaseError(ph.waits[:ph.n])
	ph.n, ph.ticks = 0, 0
	if err > phaseDeadband || err < -phaseDeadband {
		return err
	}
	return 0
}

// phaseError returns how much earlier the ticks should come (negative: later) so that the tick
// sits in the largest gap of waits (each in [0, phaseFrame), on a circle), phaseMargin after the
// gap's end or in its middle. It sorts waits.
func phaseError(waits []time.Duration) time.Duration {
	slices.Sort(waits)
	n := len(waits)
	// The gap across the frame's end (from the longest wait round to the shortest), then the
	// gaps between neighbours; upper is the first wait after the largest gap.
	gap, upper := waits[0]+phaseFrame-waits[n-1], 0
	here := gap
	for i := 0; i+1 < n; i++ {
		if g := waits[i+1] - waits[i]; g > gap {
			gap, upper = g, i+1
		}
	}
	if here >= gap-phaseDeadband {
		// The tick's own gap is as good as any (three talkers a third of a frame apart leave
		// three equal ones): stay in it rather than hop between gaps every window, which
		// would slide the clock, and every listener's RTP clock with it, without end.
		gap, upper = here, 0
	}
	err := waits[upper] - min(phaseMargin, gap/2)
	if err > phaseFrame/2 {
		err -= phaseFrame
	} else if err <= -phaseFrame/2 {
		err += phaseFrame
	}
	return err
}
