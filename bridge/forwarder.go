package bridge

import (
	"errors"
	"fmt"

	"confd/codec"
)

// The event types of RTP forwarders, with data {forwarder, host, port, codec, participant?}
// (and, on stop, reason, packets and dropped).
const (
	EventForwarderStarted EventType = "forwarder_started"
	EventForwarderStopped EventType = "forwarder_stopped"
)

var (
	// ErrForwarderLimit: the room has as many RTP forwarders as it may (HTTP 409).
	ErrForwarderLimit = errors.New("bridge: the room has its limit of forwarders")
	// ErrNoForwarder: no such RTP forwarder in the room (HTTP 404).
	ErrNoForwarder = errors.New("bridge: no such forwarder")
)

// JoinForwarder joins a listener of kind KindForwarder to room: it sends nothing and hears, in
// output with RTP payload type pt, the room's mix (everyone, as a plain listener: it shares the
// room's encode and costs a header per tick), or with solo set, the participant of that id
// alone at full level, talking or not (mixer.SetSolo: an encode of its own). The room must
// have people in it (ErrNoRoom), and solo must name one of them (ErrNoParticipant); a locked or
// full room still takes it, since the operator asked for it. Like all of confd's own
// participants it is not announced (InternalKind); it leaves with Participant.Leave.
func (b *Bridge) JoinForwarder(room, solo string, output codec.Format, pt uint8, leg Leg) (*Participant, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.rooms[room]
	if !ok || r.count() == 0 {
		return nil, fmt.Errorf("%w: %q has nobody in it", ErrNoRoom, room)
	}
	if solo != "" {
		if q, err := r.Participant(solo); err != nil || q.Internal() {
			return nil, fmt.Errorf("%w: %q in room %q", ErrNoParticipant, solo, room)
		}
	}
	return r.joinWith(ParticipantInfo{Name: "forwarder", Kind: KindForwarder, Output: output, OutputPT: pt, Solo: solo}, leg, nil)
}

// soloFor makes p hear only the participant of API id solo (ParticipantInfo.Solo), as the
// room's owner, in the change that adds p, so that p never hears a tick of the whole room.
func (r *Room) soloFor(p *Participant, solo string) error {
	q, err := findParticipant(r.parts, solo)
	if err != nil || q.Internal() {
		return fmt.Errorf("%w: %q", ErrNoParticipant, solo)
	}
	return r.mix.SetSolo(p.mid, q.mid)
}
