package bridge

import "confd/mixer"

// The data of the events that describe a participant, each built in one place so that every
// event of a type says the same things the same way.

// shownCodec is the codec the participant's state and its join or cascade event name: what it
// hears, or for one that hears nothing (a WHIP publisher) what it sends. The room's owner
// calls it; it follows a re-negotiation (SetMedia).
func (p *Participant) shownCodec() string {
	if p.output.Codec == 0 {
		return p.inputCodec
	}
	return p.output.Codec.String()
}

// roleEvent is the "role" event that says p's whole role as it now is: role, moderator, and
// for a coach the API id of its target. The room's owner builds it after any change to one of
// them, so that a receiver never has to merge partial events.
func (r *Room) roleEvent(p *Participant) Event {
	role, target, _ := r.mix.Role(p.mid)
	data := map[string]any{"role": role.String(), "moderator": p.moderator}
	if q, ok := r.byMixID[target]; ok && role == mixer.RoleCoach {
		data["target"] = q.id
	}
	return Event{Type: EventRole, Room: r.name, Participant: p.id, Data: data}
}
