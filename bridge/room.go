package bridge

import (
	"context"
	"time"

	"confd/codec"
	"confd/mixer"
	"sync"
)

// Room is one conference: a mixer, its participants and the clock goroutine that ticks them.
// Everything a tick touches is guarded by mu, which the tick holds for its whole length and the
// API holds only to apply a change, so a change made before tick n shapes tick n and the mixer
// itself needs no lock.
type Room struct {
	b    *Bridge
	name string

	mu       sync.Mutex
	settings RoomSettings
	declared bool
	mix      *mixer.Mixer
	parts    []*Participant
	byMixID  map[mixer.ID]*Participant
	running  bool
	clock    *Clock
	cancel   context.CancelFunc
	pkt      [1500]byte // the packet being written, reused for every leg
	ticks    uint64
	now      time.Time // the tick being run
	phase    phaser
	tap      func(participant string, now time.Time, f *codec.Frame)
}

func newRoom(b *Bridge, name string, s RoomSettings, declared bool) *Room {
	mc := b.cfg.Mixer
	if s.TopK > 0 {
		mc.TopK = s.TopK
	}
	return &Room{
		b: b, name: name, settings: s, declared: declared,
		mix:     mixer.New(mc, mixer.WithLogger(b.log.With("room", name))),
		byMixID: map[mixer.ID]*Participant{},
		clock:   NewClock(codec.FrameDuration),
	}
}

// Name returns the room's name.
func (r *Room) Name() string { return r.name }

// count returns how many people are in the room (recorders and players are not counted).
func (r *Room) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, p := range r.parts {
		if !p.Internal() {
			n++
		}
	}
	return n
}

// ClockStats returns the room clock's counters (late and skipped ticks).
func (r *Room) ClockStats() ClockStats { return r.clock.Stats() }

// MixerStats returns the room mixer's counters.
func (r *Room) MixerStats() mixer.Stats { return r.mix.Stats() }

// start runs the clock goroutine; the caller holds r.mu.
func (r *Room) startLocked() {
	ctx, cancel := context.WithCancel(context.Background())
	r.running, r.cancel = true, cancel
	r.b.wg.Add(1)
	// The first tick is one frame from now: a joining leg's first packets have a frame to arrive.
	start := time.Now().Add(codec.FrameDuration)
	go func() {
		defer r.b.wg.Done()
		_ = r.clock.Run(ctx, start, r.tick)
		r.b.removeIfIdle(r)
	}()
}

// tick runs one mixer tick and sends every participant its packet. It holds r.mu throughout.
func (r *Room) tick(due time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.parts) == 0 {
		r.running = false
		r.cancel()
		return
	}
	start := time.Now()
	r.ticks++
	r.now = due
	r.mix.Tick(due)
	for _, p := range r.parts {
		p.sendTick(r, due)
	}
	if obs := r.b.cfg.Observer; obs != nil {
		// Each leg's delay once a second: 1/50 of the legs per tick.
		for i := int(r.ticks % 50); i < len(r.parts); i += 50 {
			if buf := r.parts[i].buf.Load(); buf != nil {
				obs.ObserveJitterDelay(buf.CurrentDelay())
			}
		}
		defer func() { obs.ObserveTick(r.name, time.Since(start)) }()
	}
	if sh := r.phase.observe(r, due); sh != 0 {
		r.clock.Shift(sh)
	}
	for _, p := range r.parts {
		talking := r.mix.Talking(p.mid)
		if talking != p.talking {
			p.talking = talking
			r.b.bus.Publish(Event{Type: EventTalking, Room: r.name, Participant: p.id, Data: map[string]any{"talking": talking}})
		}
	}
}

// State returns the room as GET /api/rooms/ROOM shows it.
func (r *Room) State() RoomState {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := RoomState{Room: r.name, Declared: r.declared, Settings: r.settings, Participants: make([]ParticipantState, 0, len(r.parts))}
	for _, p := range r.parts {
		if !p.Internal() {
			st.Participants = append(st.Participants, p.stateLocked(r))
		}
	}
	return st
}

// participantLocked finds a participant by its API id; the caller holds r.mu.
func (r *Room) participantLocked(id string) (*Participant, error) {
	for _, p := range r.parts {
		if p.id == id {
			return p, nil
		}
	}
	return nil, ErrNoParticipant
}

// Participant returns the participant with the API id, or ErrNoParticipant.
func (r *Room) Participant(id string) (*Participant, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.participantLocked(id)
}
