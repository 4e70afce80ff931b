package bridge

import "errors"

// A cascade leg (README "Several nodes") joins a room owned by another node, or comes from one,
// as a participant, so that minus-one mixing alone keeps every voice from returning to where it
// entered. It is not a person: it carries the voices of everyone on the other node. The room
// therefore never counts it towards its limit or its people, publishes its arrival and
// departure as a "cascade" event instead of a "join" and a "leave" (which would play the entry
// chime, start a recording and tell a webhook that someone came), shows it in the roster marked
// with the other node's name, and leaves it out of "mute all", which would mute everyone behind
// it. Its audio is a mix whose talkers the other node faded in already, so the mixer lets it in
// unfaded when it starts from silence (mixer.ParticipantConfig.Premixed).

// cascadeMaxTarget bounds the target delay of a cascade leg's jitter buffer (jitter.Config
// MaxTarget). The leg's packets wait 7.5-10 ms for the tick at either end (phase.go),
// so a target below that costs no frame; one above it, which a busy sender's tick times or its
// clock's phasing slides make the estimate reach, held every voice crossing the cascade a whole
// frame longer (measured in TestClusterCascadeAddedLatency: the calling node's buffer targeting
// 4-12 ms and playing the owner's audio 21-28 ms behind its fastest path). A packet later than
// this is concealed instead, on a hop within one network.
const cascadeMaxTarget = phaseMargin

// Cascade returns the node at the other end of the participant's cascade leg, or "" for a
// person.
func (p *Participant) Cascade() string { return p.info.Cascade }

// arrivalEvent is the event that announces p in the room: a join (with the keys of extra
// added: a move's reason and origin), or for a cascade leg a "cascade" event naming the other
// node. The room's owner builds it once p is in its mixer.
func (p *Participant) arrivalEvent(r *Room, extra map[string]any) Event {
	if p.info.Cascade != "" {
		return Event{Type: EventCascade, Room: r.name, Participant: p.id,
			Data: map[string]any{"node": p.info.Cascade, "state": "joined", "name": p.info.Name, "kind": p.info.Kind, "codec": p.shownCodec()}}
	}
	role, _, _ := r.mix.Role(p.mid) // a moved participant keeps its role
	data := map[string]any{"name": p.info.Name, "from": p.info.From, "kind": p.info.Kind, "codec": p.shownCodec(),
		"role": role.String(), "moderator": p.moderator}
	for k, v := range extra {
		data[k] = v
	}
	return Event{Type: EventJoin, Room: r.name, Participant: p.id, Data: data}
}

// departureEvent is the event that says p has left: a leave, or a "cascade" event.
func (p *Participant) departureEvent(r *Room, reason string) Event {
	if p.info.Cascade != "" {
		return Event{Type: EventCascade, Room: r.name, Participant: p.id,
			Data: map[string]any{"node": p.info.Cascade, "state": "left", "reason": reason}}
	}
	return Event{Type: EventLeave, Room: r.name, Participant: p.id, Data: map[string]any{"reason": reason}}
}

// excused reports whether a refusal by Bridge.Admit lets the participant in all the same: a
// WhileDraining leg into a draining bridge, a cascade leg into a full room.
func (info ParticipantInfo) excused(err error) bool {
	return (info.WhileDraining && errors.Is(err, ErrDraining)) || (info.Cascade != "" && CascadeAdmitted(err))
}

// AdmitAs is Admit for a participant that is to join room with info: a refusal its Join would
// excuse (a WhileDraining leg into a draining bridge, a cascade leg into a full or ending room)
// is none, so that a leg answers before the join exactly as the join will decide.
func (b *Bridge) AdmitAs(room string, info ParticipantInfo) (RoomSettings, error) {
	s, err := b.Admit(room)
	if err != nil && info.excused(err) {
		return s, nil
	}
	return s, err
}

// CascadeAdmitted reports whether a refusal by Bridge.Admit lets a cascade leg in all the same:
// it carries people its node admitted already, so a room full of this node's people takes it,
// and so does a room that is ending (the census then ends the room on its node too, rather than
// leaving the people it carries alone there until this one has emptied).
func CascadeAdmitted(err error) bool {
	return errors.Is(err, ErrRoomFull) || errors.Is(err, ErrRoomEnding)
}

// full reports whether the room's limit refuses p; the room's owner calls it. Only people
// count and are refused: confd's own recorders, players and forwarders, and cascade legs (the
// people behind one took seats from this node when it owns the room, seats.go), neither count
// nor are kept out.
func (r *Room) full(p *Participant) bool {
	return p.person() && r.settings.full(peopleIn(r.parts)+r.b.elsewhere(r.name))
}

// person reports whether p counts among the room's people: neither confd's own recorder,
// player or forwarder nor a cascade leg.
func (p *Participant) person() bool { return !p.Internal() && p.info.Cascade == "" }
