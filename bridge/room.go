package bridge

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"confd/codec"
	"confd/mixer"
)

// Room is one conference: a mixer, its participants and the goroutine that owns them.
//
// The room has one owner. While it has participants, its goroutine owns the mixer, the
// participant list and everything a tick touches: it runs the ticks, and between ticks it applies
// the changes other goroutines queue for it (join, leave, control, RTCP loss reports, *6), so the
// tick takes no lock. A caller that needs the result of a change (Update, Join) waits for it: the
// goroutine wakes for the queue at once, or after the tick in progress. While the room has no
// goroutine (empty, or not yet started), whoever holds qmu owns it and applies its change itself.
//
// Readers never wait for the owner: State, Participant, Participants, Matrix and the counts read
// a snapshot the owner publishes after every batch of changes, and talking and levels, which
// change every tick, are per-participant atomics.
type Room struct {
	b    *Bridge
	name string

	// qmu guards the queue and the hand-over of ownership (running); it is held for an append,
	// a swap or an inline change, never during a tick, and nothing else is locked inside it but
	// the event Bus's own locks (an inline change publishes its events), which lock nothing.
	qmu     sync.Mutex
	queue   []command
	running bool // the goroutine owns the room
	wake    chan struct{}

	view atomic.Pointer[roomView]

	// Owned (see above).
	settings RoomSettings
	declared bool
	// startedAt is when the room last went from no participants to one (room_started).
	startedAt time.Time
	mix       *mixer.Mixer
	parts     []*Participant
	byMixID   map[mixer.ID]*Participant
	cancel    context.CancelFunc
	spare     []command           // the queue's second buffer, so that draining it allocates nothing
	pkt       [MaxPacketSize]byte // the packet being written, reused for every leg
	ticks     uint64
	now       time.Time // the tick being run
	lastDue   time.Time // the last tick's due time
	phase     phaser
	tap       func(participant string, now time.Time, f *codec.Frame)
	program   program // hold music and the end prompt (holdmusic.go, moderator.go)
	ending    bool    // the last moderator left: the room ends after its prompt
	joined    bool    // someone entered since the last reconcile (moderator.go)

	// announcer plays who comes and goes and the participant count (announce.go).
	announcer announcer

	clock *Clock // its counters are atomics, read by ClockStats from any goroutine
}

// command is one change for the room's owner; done, when not nil, is closed once it is applied.
type command struct {
	apply func()
	done  chan struct{}
}

// roomView is what readers see of a room: published by the owner after every batch of changes,
// never modified afterwards.
type roomView struct {
	settings RoomSettings
	declared bool
	parts    []*Participant // everyone, confd's own recorders and players included
	people   int            // participants that are people: not internal, not cascade legs
	matrix   []Gain         // explicit pairs, in the API's ids
	ending   bool           // the room is ending with its moderator (moderator.go)
}

// partView is what readers see of one participant's rules and media, published by the owner
// when they change.
type partView struct {
	codec  string
	rules  mixer.Rules
	target string // a coach's target's API id, "" when absent
	pan    float32
	// moderator and waiting are moderator.go's.
	moderator, waiting bool
	behind             int // a cascade leg's people behind it (census.go)
}

func newRoom(b *Bridge, name string, s RoomSettings, declared bool) *Room {
	mc := b.cfg.Mixer
	if s.TopK > 0 {
		mc.TopK = s.TopK
	}
	r := &Room{
		b: b, name: name, settings: s, declared: declared,
		mix:     mixer.New(mc, mixer.WithLogger(b.log.With("room", name))),
		byMixID: map[mixer.ID]*Participant{},
		clock:   NewClock(codec.FrameDuration),
		wake:    make(chan struct{}, 1),
	}
	r.program.music = b.music[s.HoldMusic] // the callers hold b.mu
	r.publish()
	return r
}

// Name returns the room's name.
func (r *Room) Name() string { return r.name }

// snapshot returns the room as last published.
func (r *Room) snapshot() *roomView { return r.view.Load() }

// count returns how many people are in the room (recorders and players are not counted).
func (r *Room) count() int { return r.snapshot().people }

// ClockStats returns the room clock's counters (late and skipped ticks).
func (r *Room) ClockStats() ClockStats { return r.clock.Stats() }

// MixerStats returns the room mixer's counters.
func (r *Room) MixerStats() mixer.Stats { return r.mix.Stats() }

// do applies change as the room's owner and returns once it has been applied: on the room's
// goroutine between ticks, or here when the room has none. change must not call do or post.
func (r *Room) do(change func()) {
	done := make(chan struct{})
	if r.queueOrApply(command{apply: change, done: done}) {
		<-done
	}
}

// post queues change for the room's owner without waiting for it (a goroutine that must never
// wait for a tick: a leg's packet reader).
func (r *Room) post(change func()) { r.queueOrApply(command{apply: change}) }

// queueOrApply queues c for the room's goroutine and reports true, or, when the room has none,
// applies it here, as the owner for as long as qmu is held, and reports false.
func (r *Room) queueOrApply(c command) bool {
	r.qmu.Lock()
	if !r.running {
		c.apply()
		r.reconcile()
		r.publish()
		r.qmu.Unlock()
		return false
	}
	r.queue = append(r.queue, c)
	r.qmu.Unlock()
	r.nudge()
	return true
}

// nudge wakes the room's goroutine for its queue.
func (r *Room) nudge() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// between runs on the room's goroutine before every tick and when woken: it applies the queued
// changes, publishes the snapshot, and stops the goroutine when the room has emptied. Without
// changes it allocates nothing.
func (r *Room) between() {
	r.qmu.Lock()
	q := r.queue
	r.queue = r.spare[:0]
	r.qmu.Unlock()
	for _, c := range q {
		c.apply()
	}
	if len(q) > 0 {
		// Published before anyone waiting in do is let go: whoever made a change reads it back
		// from the snapshot (Bridge.Close leaves every participant the snapshot lists; one that
		// joined a moment ago and was missing from it kept its room running for ever).
		r.reconcile()
		r.publish()
		for _, c := range q {
			if c.done != nil {
				close(c.done)
			}
		}
		clear(q)
	}
	r.spare = q[:0]
	if len(r.parts) > 0 {
		return
	}
	r.qmu.Lock()
	if len(r.queue) == 0 {
		// Empty: hand the room back to whoever takes qmu next. The goroutine touches nothing of
		// it after this.
		r.running = false
		r.cancel()
	}
	r.qmu.Unlock()
}

// start runs the room's goroutine, which from now on owns the room; the caller owns it (holds
// qmu with running false).
func (r *Room) start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.running, r.cancel = true, cancel
	r.b.wg.Add(1)
	// The first tick is one frame from now: a joining leg's first packets have a frame to arrive.
	start := time.Now().Add(codec.FrameDuration)
	go func() {
		defer r.b.wg.Done()
		_ = r.clock.RunBetween(ctx, start, r.wake, r.between, r.tick)
		r.b.removeIfIdle(r)
	}()
}

// idle reports whether the room has neither participants nor a goroutine.
func (r *Room) idle() bool {
	r.qmu.Lock()
	defer r.qmu.Unlock()
	return !r.running && len(r.parts) == 0
}

// publish makes the owner's state the snapshot readers see.
func (r *Room) publish() {
	v := &roomView{settings: r.settings, declared: r.declared, parts: append([]*Participant(nil), r.parts...), ending: r.ending}
	for _, p := range r.parts {
		if p.person() {
			v.people++
		}
	}
	pairs := r.mix.Matrix()
	v.matrix = make([]Gain, 0, len(pairs))
	for _, pr := range pairs {
		l, s := r.byMixID[pr.Listener], r.byMixID[pr.Speaker]
		if l != nil && s != nil {
			g := Gain{Listener: l.id, Speaker: s.id, Gain: pr.Gain}
			if pr.Panned {
				g.Pan = &pr.Pan
			}
			v.matrix = append(v.matrix, g)
		}
	}
	r.view.Store(v)
}

// tick runs one mixer tick and sends every participant its packet, on the room's goroutine.
func (r *Room) tick(due time.Time) {
	start := time.Now()
	r.ticks++
	r.now = due
	if !r.lastDue.IsZero() {
		// Ticks the clock skipped (a room short of CPU drops them): every leg's RTP clock
		// moves on by their frames, as over a DTX gap, so that what a listener gets stays in
		// step with the wall clock instead of falling a frame behind for each.
		if gap := skippedFrames(r.lastDue, due); gap > 0 {
			for _, p := range r.parts {
				if c := p.output.Codec; c != 0 {
					p.sender.Skip(c.RTPUnits(time.Duration(gap) * codec.FrameDuration))
				}
			}
		}
	}
	r.lastDue = due
	for _, p := range r.parts {
		if p.polled != nil && !p.left.Load() {
			p.polled.Poll() // what arrived since the last tick, with its arrival times
		}
	}
	r.reapAnnouncements() // the played ones give their listener the room from this tick
	r.mix.Tick(due)
	for _, p := range r.parts {
		p.sendTick(r, due)
	}
	if obs := r.b.cfg.Observer; obs != nil {
		// Each leg's delay once a second: 1/ticksPerSecond of the legs per tick.
		for i := int(r.ticks % uint64(ticksPerSecond)); i < len(r.parts); i += ticksPerSecond {
			if buf := r.parts[i].buf.Load(); buf != nil {
				obs.ObserveJitterDelay(buf.CurrentDelay())
			}
		}
		defer func() { obs.ObserveTick(r.name, time.Since(start)) }()
	}
	r.sendReports(due)
	if sh := r.phase.observe(r, due); sh != 0 {
		r.clock.Shift(sh)
	}
	for _, p := range r.parts {
		p.expireDigit(due)
		p.level.Store(int32(r.mix.Level(p.mid)))
		talking := r.mix.Talking(p.mid)
		if talking != p.talking {
			p.talking = talking
			p.talkingNow.Store(talking)
			r.b.bus.Publish(Event{Type: EventTalking, Room: r.name, Participant: p.id, Data: map[string]any{"talking": talking}})
		}
	}
}

// State returns the room as GET /api/rooms/ROOM shows it.
func (r *Room) State() RoomState {
	v := r.snapshot()
	st := RoomState{Room: r.name, Declared: v.declared, Settings: v.settings.Effective(), Participants: make([]ParticipantState, 0, v.people)}
	for _, p := range v.parts {
		if !p.Internal() {
			st.Participants = append(st.Participants, p.State())
		}
	}
	return st
}

// findParticipant finds a participant by its API id among parts.
func findParticipant(parts []*Participant, id string) (*Participant, error) {
	for _, p := range parts {
		if p.id == id {
			return p, nil
		}
	}
	return nil, ErrNoParticipant
}

// Participant returns the participant with the API id, or ErrNoParticipant.
func (r *Room) Participant(id string) (*Participant, error) {
	return findParticipant(r.snapshot().parts, id)
}

// skippedFrames is how many 20 ms frames lie between two ticks due at from and to beyond the
// one that follows from (rounded to the nearest frame): the ticks a room's clock skipped, whose
// frames every leg's RTP clock moves on by, as over a DTX gap.
func skippedFrames(from, to time.Time) int {
	return int((to.Sub(from)+codec.FrameDuration/2)/codec.FrameDuration) - 1
}

// ticksPerSecond is how many ticks a room runs in a second (50: one per codec.FrameDuration).
const ticksPerSecond = int(time.Second / codec.FrameDuration)
