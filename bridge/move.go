package bridge

import (
	"errors"
	"fmt"
	"time"

	"confd/codec"
	"confd/internal/guard"
	"confd/mixer"
)

// ErrWrongPIN: a move named a PIN that is not the room's (HTTP 403, SIP 403).
var ErrWrongPIN = errors.New("bridge: wrong PIN")

// MoveRequest is the body of POST /api/rooms/ROOM/participants/ID/move (docs/SPEC.md "Moving a
// participant").
type MoveRequest struct {
	// Room is the room to move to. A room that does not exist is made, as a call to it would
	// make it (an ad-hoc room, or a declared one with its settings).
	Room string `json:"room"`
	// PIN, when given, must be the room's PIN or its moderator PIN (the latter also makes the
	// participant a moderator). The API token needs none: it is the operator's, who can read
	// every room's PIN.
	PIN string `json:"pin,omitempty"`
}

// moveState is what a move leaves for the participant's first packet in its new room, and a
// join with a started stream (ParticipantInfo.Stream, the IVR's prompts) for its first packet in
// the room: that its stream goes on. The owner of its room alone touches it.
type moveState struct{ pending bool }

// resume keeps the participant's RTP clock in step with the wall clock where its stream goes
// on: the sender's timestamp stands for a time (RTPSender.nextDue: its last packet's send time
// and the audio it and any skipped ticks since covered), and the room's first tick for the
// participant may come frames later (the rooms' clocks have their own phases, the hand-over
// takes a moment, a 40 or 60 ms packet is due every second or third tick). The whole frames in
// between advance the timestamp as a DTX gap would; the sequence number goes on by one, since
// nothing was lost (RFC 3550 section 5.1). Ticks the room skipped meanwhile moved the
// timestamp on already (Room.tick), which nextDue counts.
func (m *moveState) resume(p *Participant, due time.Time) {
	m.pending = false
	c := p.output.Codec
	next := p.sender.nextDue(c.ClockRate())
	if next.IsZero() {
		return
	}
	if gap := (due.Sub(next) + codec.FrameDuration/2) / codec.FrameDuration; gap > 0 {
		p.sender.Skip(c.RTPUnits(gap * codec.FrameDuration))
	}
}

// Move moves participant id from room from to room to without touching its call: the same
// leg, codec, RTP stream (SSRC, sequence numbers, timestamps that go on in step), role, mute,
// deafness and stereo pan; from the next tick of to it hears to and is heard there. to's lock and limit
// apply (ErrRoomLocked, ErrRoomFull); pin, when not empty, must be to's PIN or its moderator
// PIN (ErrWrongPIN). Moving to the room it is in changes nothing. A coach cannot be moved
// (its target stays behind: make it a normal participant first), nor a cascade leg between
// nodes. It publishes "leave" in from and "join" in to, both with the reason "moved", and
// returns the participant as it now is in to.
//
// The hand-over respects each room's single owner. The mover holds the bridge's lock, under
// which every join runs, so that to cannot fill up or be locked meanwhile; to's owner checks
// the lock and the limit; from's owner takes the participant out of its mixer, queues its
// entry for to's owner, and only then points the participant at to, so that every later
// change for it (a re-INVITE, a *6, a leave) reaches to after the entry, and a change that
// reached from too late is passed on (own, ownLater). No tick sees it half moved: it is in
// one mixer, then in none, then in the other.
func (b *Bridge) Move(from, id string, req MoveRequest) (_ ParticipantState, err error) {
	if err := CheckRoomName(req.Room); err != nil {
		return ParticipantState{}, err
	}
	if b.draining.Load() {
		return ParticipantState{}, ErrDraining
	}
	if req.Room != from { // a seat in to, from its owner when another node owns it (seats.go)
		b.mu.Lock()
		s, _ := b.settingsLocked(req.Room)
		b.mu.Unlock()
		release, refused := b.takeSeat(req.Room, ParticipantInfo{}, s.Limit)
		if refused != nil {
			return ParticipantState{}, refused
		}
		defer func() { release(err == nil) }()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	src, ok := b.rooms[from]
	if !ok {
		return ParticipantState{}, fmt.Errorf("%w: %q has no participants", ErrNoRoom, from)
	}
	p, err := findParticipant(src.snapshot().parts, id)
	if err != nil || p.Internal() {
		return ParticipantState{}, fmt.Errorf("%w: %q in %q", ErrNoParticipant, id, from)
	}
	if p.info.WhileDraining || p.info.Cascade != "" {
		return ParticipantState{}, fmt.Errorf("%w: %q is a cascade leg between nodes", ErrBadSetting, id)
	}
	if req.Room == from {
		if err := checkMovePIN(src.snapshot().settings, req.PIN); err != nil {
			return ParticipantState{}, err
		}
		return p.State(), nil
	}
	dst, ok := b.rooms[req.Room]
	if !ok {
		s, declared := b.declared[req.Room]
		dst = newRoom(b, req.Room, s, declared)
		b.rooms[req.Room] = dst
	}
	err = b.moveLocked(src, dst, p, req.PIN)
	if err != nil && dst.idle() {
		delete(b.rooms, req.Room) // a refused move leaves no empty room behind
	}
	if err != nil {
		return ParticipantState{}, err
	}
	b.log.Info("moved", "id", p.id, "from", from, "to", req.Room)
	return p.State(), nil
}

// checkMovePIN checks a move's PIN against the settings of the room it moves to: none, the
// PIN or the moderator PIN; any PIN is taken by a room that has neither.
func checkMovePIN(s RoomSettings, pin string) error {
	if pin == "" || guard.SecretMatches(pin, s.PIN) || guard.SecretMatches(pin, s.ModeratorPIN) {
		return nil
	}
	if s.PIN == "" && s.ModeratorPIN == "" {
		return nil // a room without a PIN takes any
	}
	return ErrWrongPIN
}

// moveLocked is Move's hand-over, with b.mu held.
func (b *Bridge) moveLocked(src, dst *Room, p *Participant, pin string) error {
	var err error
	moderator := false
	dst.do(func() {
		s := dst.settings
		if err = s.refusal(peopleIn(dst.parts)+b.elsewhere(dst.name), dst.ending); err == nil {
			err = checkMovePIN(s, pin)
			moderator = guard.SecretMatches(pin, s.ModeratorPIN)
		}
	})
	if err != nil {
		return err
	}
	entered := make(chan error, 1)
	src.do(func() { err = src.takeOut(p, dst, moderator, entered) })
	if err != nil {
		return err
	}
	if err := <-entered; err != nil {
		return err
	}
	dst.do(func() {}) // returns once the entry's batch is published: GET shows the participant
	return nil
}

// takeOut is the old room's half of a move, run by its owner: it takes p out of the mixer and
// the list, publishes its leave, queues its entry for dst's owner and points p at dst. The
// entry's result is sent on entered.
func (r *Room) takeOut(p *Participant, dst *Room, moderator bool, entered chan<- error) error {
	if p.room.Load() != r || p.left.Load() {
		return fmt.Errorf("%w: %q has left %q", ErrNoParticipant, p.id, r.name)
	}
	role, _, err := r.mix.Role(p.mid)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrNoParticipant, p.id)
	}
	if role == mixer.RoleCoach {
		return fmt.Errorf("%w: a coach is not moved away from its target: make it a normal participant first", ErrBadSetting)
	}
	rules := mixer.Rules{Muted: r.mix.Muted(p.mid), Deaf: r.mix.Deaf(p.mid), Role: role}
	pan := r.mix.Pan(p.mid)
	r.remove(p)
	r.b.bus.Publish(Event{Type: EventLeave, Room: r.name, Participant: p.id, Data: map[string]any{"reason": "moved", "to": dst.name}})
	r.finishIfEmpty()
	p.moved.pending = true
	p.talking = false
	p.talkingNow.Store(false)
	from := r.name
	dst.post(func() {
		p.moderator = p.moderator || moderator
		err := dst.enter(p, map[string]any{"reason": "moved", "moved_from": from})
		if err == nil {
			_ = dst.mix.SetMuted(p.mid, rules.Muted)
			_ = dst.mix.SetDeaf(p.mid, rules.Deaf)
			_ = dst.mix.SetRole(p.mid, rules.Role, 0)
			_ = dst.mix.SetPan(p.mid, pan)
			p.refresh(dst)
		} else {
			// The new room's mixer refused the participant's format, which the old one took:
			// it cannot happen with one encoder factory, but a leg must not be left in no room.
			dst.b.log.Error("move: the new room refused the participant; hanging up", "id", p.id, "room", dst.name, "err", err)
			go p.Hangup("move failed")
		}
		entered <- err
	})
	p.room.Store(dst)
	return nil
}

// enter adds p to the room as its owner: to the mixer with its source and output, to the list,
// with the room_started (for the first) and join events, and starts the room's goroutine if it
// has none. data is the join event's.
func (r *Room) enter(p *Participant, moved map[string]any) error {
	if e := r.mix.Add(p.mid, mixer.ParticipantConfig{Source: p.src, Format: p.output, Premixed: p.info.Cascade != ""}); e != nil {
		return fmt.Errorf("%w: %w", ErrBadSetting, e)
	}
	if p.info.Solo != "" {
		if err := r.soloFor(p, p.info.Solo); err != nil {
			_ = r.mix.Remove(p.mid)
			return err
		}
	}
	// The room's events are published by its owner, in the order of the changes they
	// report: room_started, then the join, never after another participant's leave that
	// finished the room.
	if len(r.parts) == 0 {
		r.startedAt = now()
		r.b.bus.Publish(Event{Type: EventRoomStarted, Room: r.name, Data: map[string]any{"declared": r.declared}})
	}
	r.parts = append(r.parts, p)
	r.byMixID[p.mid] = p
	r.phase.join(p)
	if e := p.applyPreprocessing(r); e != nil {
		r.b.log.Warn("joined without noise suppression or AGC", "room", r.name, "id", p.id, "err", e)
	}
	p.in = r
	r.joined = r.joined || !p.Internal() // for announce_only_participant (moderator.go)
	r.announceArrival(p, moved != nil)
	p.refresh(r)
	if !p.Internal() {
		r.b.bus.Publish(p.arrivalEvent(r, moved))
	}
	if !r.running && !r.b.noClock {
		r.start()
	}
	return nil
}

// remove takes p out of the room's mixer and list, as its owner; p's coaches keep their role
// without a target.
func (r *Room) remove(p *Participant) {
	_ = r.mix.Remove(p.mid)
	p.closePreprocessor(r) // the new room makes its own, with its settings
	for i, q := range r.parts {
		if q == p {
			r.parts = append(r.parts[:i], r.parts[i+1:]...)
			break
		}
	}
	delete(r.byMixID, p.mid)
	r.phase.leave(p)
	for _, q := range r.parts {
		if v := q.view.Load(); v != nil && v.target == p.id {
			q.refresh(r)
		}
	}
}

// finishIfEmpty publishes room_finished when the last participant has gone, as the owner.
func (r *Room) finishIfEmpty() {
	if len(r.parts) == 0 {
		r.b.bus.Publish(Event{Type: EventRoomFinished, Room: r.name,
			Data: map[string]any{"duration_seconds": max(0, now().Sub(r.startedAt).Round(time.Millisecond).Seconds())}})
	}
}

// own runs change as the owner of the participant's room and waits for it. When a move has
// taken the participant elsewhere before change runs, it runs in the new room instead.
func (p *Participant) own(change func(r *Room)) {
	for {
		r := p.room.Load()
		here := true
		r.do(func() {
			if here = p.room.Load() == r; here {
				change(r)
			}
		})
		if here {
			return
		}
	}
}

// ownLater is own for a goroutine that must not wait (a leg's packet reader): change is queued
// for the participant's room, and passed on to the new one if a move came first.
func (p *Participant) ownLater(change func(r *Room)) {
	r := p.room.Load()
	r.post(func() {
		if p.room.Load() != r {
			// Passed on from a goroutine of its own: this one may hold r's queue lock (a room
			// without a goroutine applies changes inline), and must not take another room's.
			go p.ownLater(change)
			return
		}
		change(r)
	})
}
