package bridge

import (
	"fmt"

	"confd/mixer"
)

// Change is a PATCH of a participant (docs/SPEC.md "Control API"): nil fields are left as they are.
type Change struct {
	Muted  *bool   `json:"muted,omitempty"`
	Deaf   *bool   `json:"deaf,omitempty"`
	Role   *string `json:"role,omitempty"`
	Target *string `json:"target,omitempty"`
	// Pan places the participant for stereo listeners, -1 (left) to 1 (right); 0 is the centre
	// (mixer/stereo.go).
	Pan *float32 `json:"pan,omitempty"`
	// Moderator makes the participant a moderator or not (moderator.go).
	Moderator *bool `json:"moderator,omitempty"`
	// Denoise and AGC override the room's settings for this participant (preprocess.go).
	Denoise *bool `json:"denoise,omitempty"`
	AGC     *bool `json:"agc,omitempty"`
}

// Update applies c to participant id atomically: every field is checked first, and a refused
// change (ErrNoParticipant, ErrBadSetting) changes nothing. The room's owner applies it between
// ticks, so it shapes the next tick.
func (r *Room) Update(id string, c Change) (ParticipantState, error) {
	var (
		st     ParticipantState
		err    error
		events []Event
	)
	r.do(func() { st, events, err = r.update(id, c) })
	for _, e := range events {
		r.b.bus.Publish(e)
	}
	return st, err
}

// update is Update as the room's owner runs it.
func (r *Room) update(id string, c Change) (ParticipantState, []Event, error) {
	p, err := findParticipant(r.parts, id)
	if err != nil {
		return ParticipantState{}, nil, err
	}
	role, target, _ := r.mix.Role(p.mid)
	if c.Role != nil {
		if role, err = mixer.ParseRole(*c.Role); err != nil {
			return ParticipantState{}, nil, fmt.Errorf("%w: %w", ErrBadSetting, err)
		}
		if role != mixer.RoleCoach {
			target = 0
		}
	}
	if c.Target != nil {
		q, err := findParticipant(r.parts, *c.Target)
		if err != nil {
			return ParticipantState{}, nil, fmt.Errorf("%w: target %q", ErrNoParticipant, *c.Target)
		}
		if q == p {
			return ParticipantState{}, nil, fmt.Errorf("%w: a participant cannot coach itself", ErrBadSetting)
		}
		target = q.mid
	}
	if role == mixer.RoleCoach && target == 0 {
		return ParticipantState{}, nil, fmt.Errorf("%w: a coach needs a target", ErrBadSetting)
	}
	if c.Pan != nil && !(*c.Pan >= -1 && *c.Pan <= 1) {
		return ParticipantState{}, nil, fmt.Errorf("%w: pan %v outside -1 to 1", ErrBadSetting, *c.Pan)
	}
	if c.Role != nil || c.Target != nil {
		// The one setter that can refuse goes first, so that a refusal changes nothing.
		if err := r.mix.SetRole(p.mid, role, target); err != nil {
			return ParticipantState{}, nil, fmt.Errorf("%w: %w", ErrBadSetting, err)
		}
	}
	if err := p.changePreprocessing(r, c); err != nil {
		return ParticipantState{}, nil, err
	}
	var events []Event
	if c.Pan != nil {
		_ = r.mix.SetPan(p.mid, *c.Pan) // checked above
	}
	roleChanged := c.Role != nil || c.Target != nil
	if c.Moderator != nil && *c.Moderator != p.moderator {
		p.moderator = *c.Moderator
		r.reconcile() // who waits, now, so that the answer shows it
		roleChanged = true
	}
	if c.Muted != nil && *c.Muted != r.mix.Muted(p.mid) {
		_ = r.mix.SetMuted(p.mid, *c.Muted)
		events = append(events, Event{Type: EventMute, Room: r.name, Participant: p.id, Data: map[string]any{"muted": *c.Muted, "by": "api"}})
	}
	if c.Deaf != nil && *c.Deaf != r.mix.Deaf(p.mid) {
		_ = r.mix.SetDeaf(p.mid, *c.Deaf)
		events = append(events, Event{Type: EventMute, Room: r.name, Participant: p.id, Data: map[string]any{"deaf": *c.Deaf, "by": "api"}})
	}
	if roleChanged {
		events = append(events, r.roleEvent(p))
	}
	p.refresh(r)
	return p.State(), events, nil
}

// MuteAll mutes every participant but coaches, monitors and cascade legs (docs/SPEC.md "Control
// API"; muting a cascade leg would mute everyone on the other node) and returns how many it muted.
func (r *Room) MuteAll() int {
	var muted []string
	r.do(func() {
		for _, p := range r.parts {
			role, _, _ := r.mix.Role(p.mid)
			if role == mixer.RoleNormal && p.info.Cascade == "" && !r.mix.Muted(p.mid) {
				_ = r.mix.SetMuted(p.mid, true)
				p.refresh(r)
				muted = append(muted, p.id)
			}
		}
	})
	for _, id := range muted {
		r.b.bus.Publish(Event{Type: EventMute, Room: r.name, Participant: id, Data: map[string]any{"muted": true, "by": "mute-all"}})
	}
	return len(muted)
}

// Gain is one explicit matrix pair in the API's terms (docs/SPEC.md: gain 0 to 4, absent pairs are
// 1), and where a stereo listener hears the speaker when Pan is set (-1 to 1, in place of the
// speaker's own pan).
type Gain struct {
	Listener string   `json:"listener"`
	Speaker  string   `json:"speaker"`
	Gain     float32  `json:"gain"`
	Pan      *float32 `json:"pan,omitempty"`
}

// SetMatrix replaces the room's explicit pairs. Unknown ids (ErrNoParticipant) or a gain out of
// range (ErrBadSetting) refuse the whole request and change nothing.
func (r *Room) SetMatrix(gains []Gain) error {
	var err error
	r.do(func() { err = r.setMatrix(gains) })
	return err
}

// setMatrix is SetMatrix as the room's owner runs it.
func (r *Room) setMatrix(gains []Gain) error {
	pairs := make([]mixer.Pair, 0, len(gains))
	for _, g := range gains {
		l, err := findParticipant(r.parts, g.Listener)
		if err != nil {
			return fmt.Errorf("%w: listener %q", ErrNoParticipant, g.Listener)
		}
		s, err := findParticipant(r.parts, g.Speaker)
		if err != nil {
			return fmt.Errorf("%w: speaker %q", ErrNoParticipant, g.Speaker)
		}
		if !(g.Gain >= 0 && g.Gain <= mixer.MaxGain) {
			return fmt.Errorf("%w: gain %v outside 0-%d", ErrBadSetting, g.Gain, mixer.MaxGain)
		}
		pair := mixer.Pair{Listener: l.mid, Speaker: s.mid, Gain: g.Gain}
		if g.Pan != nil {
			pair.Pan, pair.Panned = *g.Pan, true
		}
		pairs = append(pairs, pair)
	}
	if err := r.mix.SetMatrix(pairs); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSetting, err)
	}
	r.keepAnnouncementsUnheard() // the new matrix replaced their pairs too (announce.go)
	r.keepProgramOffCascadesAgain()
	return nil
}

// Matrix returns the room's explicit pairs.
func (r *Room) Matrix() []Gain {
	return append([]Gain{}, r.snapshot().matrix...)
}

// EffectiveMatrix returns, for every ordered pair of people in the room whose effective gain is
// not 1, the gain the mixer applies now: mute and deafness first, then roles (a coach is heard
// only by its target, a monitor by no one), then the explicit pair (docs/SPEC.md "What each participant
// hears"). Pairs not listed are heard at 1.
func (r *Room) EffectiveMatrix() []Gain {
	v := r.snapshot()
	type pair struct{ l, s string }
	explicit := make(map[pair]float32, len(v.matrix))
	for _, g := range v.matrix {
		explicit[pair{g.Listener, g.Speaker}] = g.Gain
	}
	out := []Gain{}
	for _, l := range v.parts {
		lv := l.view.Load()
		if l.Internal() || lv == nil {
			continue
		}
		for _, s := range v.parts {
			sv := s.view.Load()
			if s == l || s.Internal() || sv == nil {
				continue
			}
			g, ok := explicit[pair{l.id, s.id}]
			if g := mixer.RuleGain(l.mid, lv.rules, s.mid, sv.rules, g, ok); g != 1 {
				out = append(out, Gain{Listener: l.id, Speaker: s.id, Gain: g})
			}
		}
	}
	return out
}
