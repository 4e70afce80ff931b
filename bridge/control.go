package bridge

import (
	"fmt"

	"confd/mixer"
)

// Change is a PATCH of a participant (SPEC "Control API"): nil fields are left as they are.
type Change struct {
	Muted  *bool   `json:"muted,omitempty"`
	Deaf   *bool   `json:"deaf,omitempty"`
	Role   *string `json:"role,omitempty"`
	Target *string `json:"target,omitempty"`
}

// Update applies c to participant id atomically: every field is checked first, and a refused
// change (ErrNoParticipant, ErrBadSetting) changes nothing. The change shapes the next tick.
func (r *Room) Update(id string, c Change) (ParticipantState, error) {
	r.mu.Lock()
	p, err := r.participantLocked(id)
	if err != nil {
		r.mu.Unlock()
		return ParticipantState{}, err
	}
	role, target, _ := r.mix.Role(p.mid)
	if c.Role != nil {
		if role, err = mixer.ParseRole(*c.Role); err != nil {
			r.mu.Unlock()
			return ParticipantState{}, fmt.Errorf("%w: %v", ErrBadSetting, err)
		}
		if role != mixer.RoleCoach {
			target = 0
		}
	}
	if c.Target != nil {
		q, err := r.participantLocked(*c.Target)
		if err != nil {
			r.mu.Unlock()
			return ParticipantState{}, fmt.Errorf("%w: target %q", ErrNoParticipant, *c.Target)
		}
		if q == p {
			r.mu.Unlock()
			return ParticipantState{}, fmt.Errorf("%w: a participant cannot coach itself", ErrBadSetting)
		}
		target = q.mid
	}
	if role == mixer.RoleCoach && target == 0 {
		r.mu.Unlock()
		return ParticipantState{}, fmt.Errorf("%w: a coach needs a target", ErrBadSetting)
	}
	var events []Event
	if c.Muted != nil && *c.Muted != r.mix.Muted(p.mid) {
		_ = r.mix.SetMuted(p.mid, *c.Muted)
		events = append(events, Event{Type: EventMute, Room: r.name, Participant: p.id, Data: map[string]any{"muted": *c.Muted}})
	}
	if c.Deaf != nil && *c.Deaf != r.mix.Deaf(p.mid) {
		_ = r.mix.SetDeaf(p.mid, *c.Deaf)
		events = append(events, Event{Type: EventMute, Room: r.name, Participant: p.id, Data: map[string]any{"deaf": *c.Deaf}})
	}
	if c.Role != nil || c.Target != nil {
		if err := r.mix.SetRole(p.mid, role, target); err != nil {
			r.mu.Unlock()
			return ParticipantState{}, fmt.Errorf("%w: %v", ErrBadSetting, err)
		}
		data := map[string]any{"role": role.String()}
		if role == mixer.RoleCoach {
			data["target"] = r.byMixID[target].id
		}
		events = append(events, Event{Type: EventRole, Room: r.name, Participant: p.id, Data: data})
	}
	st := p.stateLocked(r)
	r.mu.Unlock()
	for _, e := range events {
		r.b.bus.Publish(e)
	}
	return st, nil
}

// MuteAll mutes every participant but coaches and monitors (SPEC "Control API") and returns
// how many it muted.
func (r *Room) MuteAll() int {
	r.mu.Lock()
	var muted []string
	for _, p := range r.parts {
		role, _, _ := r.mix.Role(p.mid)
		if role == mixer.RoleNormal && !r.mix.Muted(p.mid) {
			_ = r.mix.SetMuted(p.mid, true)
			muted = append(muted, p.id)
		}
	}
	r.mu.Unlock()
	for _, id := range muted {
		r.b.bus.Publish(Event{Type: EventMute, Room: r.name, Participant: id, Data: map[string]any{"muted": true, "by": "mute-all"}})
	}
	return len(muted)
}

// Gain is one explicit matrix pair in the API's terms (SPEC: gain 0 to 4, absent pairs are 1).
type Gain struct {
	Listener string  `json:"listener"`
	Speaker  string  `json:"speaker"`
	Gain     float32 `json:"gain"`
}

// SetMatrix replaces the room's explicit pairs. Unknown ids (ErrNoParticipant) or a gain out of
// range (ErrBadSetting) refuse the whole request and change nothing.
func (r *Room) SetMatrix(gains []Gain) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	pairs := make([]mixer.Pair, 0, len(gains))
	for _, g := range gains {
		l, err := r.participantLocked(g.Listener)
		if err != nil {
			return fmt.Errorf("%w: listener %q", ErrNoParticipant, g.Listener)
		}
		s, err := r.participantLocked(g.Speaker)
		if err != nil {
			return fmt.Errorf("%w: speaker %q", ErrNoParticipant, g.Speaker)
		}
		if !(g.Gain >= 0 && g.Gain <= mixer.MaxGain) {
			return fmt.Errorf("%w: gain %v outside 0-%d", ErrBadSetting, g.Gain, mixer.MaxGain)
		}
		pairs = append(pairs, mixer.Pair{Listener: l.mid, Speaker: s.mid, Gain: g.Gain})
	}
	if err := r.mix.SetMatrix(pairs); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSetting, err)
	}
	return nil
}

// Matrix returns the room's explicit pairs.
func (r *Room) Matrix() []Gain {
	r.mu.Lock()
	defer r.mu.Unlock()
	pairs := r.mix.Matrix()
	out := make([]Gain, 0, len(pairs))
	for _, pr := range pairs {
		l, s := r.byMixID[pr.Listener], r.byMixID[pr.Speaker]
		if l != nil && s != nil {
			out = append(out, Gain{Listener: l.id, Speaker: s.id, Gain: pr.Gain})
		}
	}
	return out
}

// EffectiveMatrix returns, for every ordered pair of people in the room whose effective gain is
// not 1, the gain the mixer applies now: mute and deafness first, then roles (a coach is heard
// only by its target, a monitor by no one), then the explicit pair (SPEC "What each participant
// hears"). Pairs not listed are heard at 1.
func (r *Room) EffectiveMatrix() []Gain {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Gain
	for _, l := range r.parts {
		if l.Internal() {
			continue
		}
		for _, s := range r.parts {
			if s == l || s.Internal() {
				continue
			}
			if g, err := r.mix.EffectiveGain(l.mid, s.mid); err == nil && g != 1 {
				out = append(out, Gain{Listener: l.id, Speaker: s.id, Gain: g})
			}
		}
	}
	if out == nil {
		out = []Gain{}
	}
	return out
}
