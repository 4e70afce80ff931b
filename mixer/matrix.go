package mixer

import (
	"fmt"
	"math"
	"sort"
)

// Pair is one explicit entry of the matrix: how loud listener hears speaker, 0 to MaxGain
// (linear). Absent pairs are 1 (docs/SPEC.md "Gains").
type Pair struct {
	Listener ID      `json:"listener"`
	Speaker  ID      `json:"speaker"`
	Gain     float32 `json:"gain"`
}

type pairKey struct{ listener, speaker ID }

// rowEntry is one explicit pair as the tick sees it: the speaker's slot and the gain, as a float
// for the "is it 1" test and in Q14 fixed point for the sum (4.0 is 65536, and 32767·65536 still
// fits in an int32).
type rowEntry struct {
	speaker int32
	gain    float32
	q14     int32
}

const gainOne = 1 << 14

func toQ14(g float32) int32 { return int32(math.Round(float64(g) * gainOne)) }

func checkGain(g float32) error {
	if !(g >= 0 && g <= MaxGain) { // also rejects NaN
		return fmt.Errorf("%w: %v", ErrBadGain, g)
	}
	return nil
}

func (m *Mixer) checkPair(p Pair) error {
	if p.Listener == p.Speaker {
		return fmt.Errorf("%w: %d", ErrSelfPair, p.Listener)
	}
	if _, ok := m.index[p.Listener]; !ok {
		return fmt.Errorf("%w: listener %d", ErrUnknownParticipant, p.Listener)
	}
	if _, ok := m.index[p.Speaker]; !ok {
		return fmt.Errorf("%w: speaker %d", ErrUnknownParticipant, p.Speaker)
	}
	return checkGain(p.Gain)
}

// SetGain sets the explicit gain at which listener hears speaker, effective from the next tick.
// A listener whose explicit pairs change the level of a mixed talker gets its own mix and encode;
// a gain of exactly 1 is recorded (Matrix lists it) but costs nothing.
func (m *Mixer) SetGain(listener, speaker ID, gain float32) error {
	p := Pair{listener, speaker, gain}
	if err := m.checkPair(p); err != nil {
		return err
	}
	m.pairs[pairKey{listener, speaker}] = gain
	m.rebuildRow(listener)
	return nil
}

// ClearGain removes the explicit pair, so that listener hears speaker at the default gain of 1.
func (m *Mixer) ClearGain(listener, speaker ID) {
	if _, ok := m.pairs[pairKey{listener, speaker}]; ok {
		delete(m.pairs, pairKey{listener, speaker})
		m.rebuildRow(listener)
	}
}

// SetMatrix replaces every explicit pair with pairs. It checks them all first: on an error
// (unknown participant, a self pair, a gain out of range, a pair given twice) the matrix is left
// as it was.
func (m *Mixer) SetMatrix(pairs []Pair) error {
	seen := make(map[pairKey]bool, len(pairs))
	for _, p := range pairs {
		if err := m.checkPair(p); err != nil {
			return err
		}
		k := pairKey{p.Listener, p.Speaker}
		if seen[k] {
			return fmt.Errorf("%w: pair %d→%d given twice", ErrBadGain, p.Speaker, p.Listener)
		}
		seen[k] = true
	}
	m.pairs = make(map[pairKey]float32, len(pairs))
	for _, p := range pairs {
		m.pairs[pairKey{p.Listener, p.Speaker}] = p.Gain
	}
	for i := range m.slots {
		m.slots[i].row = m.slots[i].row[:0]
	}
	for k, g := range m.pairs {
		l, sp := m.index[k.listener], m.index[k.speaker]
		m.slots[l].row = append(m.slots[l].row, rowEntry{speaker: sp, gain: g, q14: toQ14(g)})
	}
	return nil
}

// Matrix returns the explicit pairs, sorted by listener then speaker.
func (m *Mixer) Matrix() []Pair {
	out := make([]Pair, 0, len(m.pairs))
	for k, g := range m.pairs {
		out = append(out, Pair{k.listener, k.speaker, g})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Listener != out[j].Listener {
			return out[i].Listener < out[j].Listener
		}
		return out[i].Speaker < out[j].Speaker
	})
	return out
}

// EffectiveGain returns the gain at which listener hears speaker under every rule, in the
// docs/SPEC.md's precedence: nobody hears itself; a deaf listener or a muted speaker gives 0; then the
// speaker's role (a monitor is heard by no one, a coach only by its target); then the explicit
// pair, else 1. Talker selection is not a rule: a quiet speaker at gain 1 still reads 1.
func (m *Mixer) EffectiveGain(listener, speaker ID) (float32, error) {
	l, err := m.lookup(listener)
	if err != nil {
		return 0, err
	}
	s, err := m.lookup(speaker)
	if err != nil {
		return 0, err
	}
	g, explicit := m.pairs[pairKey{listener, speaker}]
	return RuleGain(listener, Rules{Deaf: l.deaf}, speaker, Rules{Muted: s.muted, Role: s.role, Target: s.target}, g, explicit), nil
}

// Rules are the matrix rules of one participant that RuleGain applies.
type Rules struct {
	Muted, Deaf bool
	Role        Role
	Target      ID // a coach's target
}

// RuleGain is EffectiveGain's precedence for callers that keep the rules themselves (the room's
// snapshot for the API): nobody hears itself; a deaf listener or a muted speaker gives 0; then the
// speaker's role (a monitor is heard by no one, a coach only by its target); then the explicit
// pair gain when explicit is set, else 1.
func RuleGain(listener ID, l Rules, speaker ID, s Rules, gain float32, explicit bool) float32 {
	switch {
	case listener == speaker, l.Deaf, s.Muted:
		return 0
	case s.Role == RoleMonitor:
		return 0
	case s.Role == RoleCoach && s.Target != listener:
		return 0
	case explicit:
		return gain
	}
	return 1
}

// rebuildRow rebuilds the tick's view of one listener's explicit pairs.
func (m *Mixer) rebuildRow(listener ID) {
	s, ok := m.index[listener]
	if !ok {
		return
	}
	p := &m.slots[s]
	p.row = p.row[:0]
	for k, g := range m.pairs {
		if k.listener != listener {
			continue
		}
		if sp, ok := m.index[k.speaker]; ok {
			p.row = append(p.row, rowEntry{speaker: sp, gain: g, q14: toQ14(g)})
		}
	}
}

// dropPairsOf deletes every pair that names id, as listener or speaker.
func (m *Mixer) dropPairsOf(id ID) {
	var touched []ID
	for k := range m.pairs {
		if k.listener == id || k.speaker == id {
			delete(m.pairs, k)
			if k.listener != id {
				touched = append(touched, k.listener)
			}
		}
	}
	for _, l := range touched {
		m.rebuildRow(l)
	}
}

// gainQ14 returns the explicit gain of speaker slot s in row, or unity.
func gainQ14(row []rowEntry, s int32) int32 {
	for _, e := range row {
		if e.speaker == s {
			return e.q14
		}
	}
	return gainOne
}
