package mixer

import (
	"fmt"
	"math"
	"sort"
)

// Pair is one explicit entry of the matrix: how loud listener hears speaker, 0 to MaxGain
// (linear), and, when Panned, where a stereo listener hears it, Pan from -1 (left) to 1 (right),
// in place of the speaker's own pan (stereo.go). Absent pairs are 1 and the speaker's pan
// (docs/SPEC.md "Gains").
type Pair struct {
	Listener ID      `json:"listener"`
	Speaker  ID      `json:"speaker"`
	Gain     float32 `json:"gain"`
	Pan      float32 `json:"pan,omitempty"`
	Panned   bool    `json:"-"` // Pan is set for this pair
}

type pairKey struct{ listener, speaker ID }

// pairValue is what the matrix holds for one pair.
type pairValue struct {
	gain   float32
	pan    float32
	panned bool
}

// rowEntry is one explicit pair as the tick sees it: the speaker's slot and the gain, as a float
// for the "is it 1" test and in Q14 fixed point for the sum (4.0 is 65536, and 32767·65536 still
// fits in an int32), and the pair's pan as left and right Q14 gains when it has one.
type rowEntry struct {
	speaker    int32
	gain       float32
	q14        int32
	panned     bool
	panL, panR int32
	pan        float32
}

func newRowEntry(speaker int32, v pairValue) rowEntry {
	e := rowEntry{speaker: speaker, gain: v.gain, q14: toQ14(v.gain), panned: v.panned, pan: v.pan}
	e.panL, e.panR = panGains(v.pan)
	return e
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
	if p.Panned {
		if err := checkPan(p.Pan); err != nil {
			return err
		}
	}
	return checkGain(p.Gain)
}

// SetGain sets the explicit gain at which listener hears speaker, effective from the next tick,
// keeping the pair's pan if it has one. A listener whose explicit pairs change the level of a
// mixed talker gets its own mix and encode; a gain of exactly 1 is recorded (Matrix lists it)
// but costs nothing.
func (m *Mixer) SetGain(listener, speaker ID, gain float32) error {
	v := m.pairs[pairKey{listener, speaker}]
	return m.setPair(Pair{Listener: listener, Speaker: speaker, Gain: gain, Pan: v.pan, Panned: v.panned})
}

// SetPairPan sets where listener hears speaker when it hears stereo, -1 (left) to 1 (right),
// in place of the speaker's own pan, keeping the pair's gain (1 for a new pair). Effective from
// the next tick; a mono listener's mix does not change.
func (m *Mixer) SetPairPan(listener, speaker ID, pan float32) error {
	v, ok := m.pairs[pairKey{listener, speaker}]
	if !ok {
		v.gain = 1
	}
	return m.setPair(Pair{Listener: listener, Speaker: speaker, Gain: v.gain, Pan: pan, Panned: true})
}

func (m *Mixer) setPair(p Pair) error {
	if err := m.checkPair(p); err != nil {
		return err
	}
	m.pairs[pairKey{p.Listener, p.Speaker}] = pairValue{p.Gain, p.Pan, p.Panned}
	m.rebuildRow(p.Listener)
	return nil
}

// ClearGain removes the explicit pair, so that listener hears speaker at the default gain of 1
// and at the speaker's own pan.
func (m *Mixer) ClearGain(listener, speaker ID) {
	if _, ok := m.pairs[pairKey{listener, speaker}]; ok {
		delete(m.pairs, pairKey{listener, speaker})
		m.rebuildRow(listener)
	}
}

// SetMatrix replaces every explicit pair with pairs. It checks them all first: on an error
// (unknown participant, a self pair, a gain or pan out of range, a pair given twice) the matrix
// is left as it was.
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
	m.pairs = make(map[pairKey]pairValue, len(pairs))
	for _, p := range pairs {
		m.pairs[pairKey{p.Listener, p.Speaker}] = pairValue{p.Gain, p.Pan, p.Panned}
	}
	for i := range m.slots {
		m.slots[i].row = m.slots[i].row[:0]
	}
	for k, v := range m.pairs {
		l, sp := m.index[k.listener], m.index[k.speaker]
		m.slots[l].row = append(m.slots[l].row, newRowEntry(sp, v))
	}
	m.placeAll()
	return nil
}

// Matrix returns the explicit pairs, sorted by listener then speaker.
func (m *Mixer) Matrix() []Pair {
	out := make([]Pair, 0, len(m.pairs))
	for k, v := range m.pairs {
		out = append(out, Pair{Listener: k.listener, Speaker: k.speaker, Gain: v.gain, Pan: v.pan, Panned: v.panned})
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
	v, explicit := m.pairs[pairKey{listener, speaker}]
	return RuleGain(listener, Rules{Deaf: l.deaf}, speaker, Rules{Muted: s.muted, Role: s.role, Target: s.target}, v.gain, explicit), nil
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
	for k, v := range m.pairs {
		if k.listener != listener {
			continue
		}
		if sp, ok := m.index[k.speaker]; ok {
			p.row = append(p.row, newRowEntry(sp, v))
		}
	}
	m.place(p)
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

// entryOf returns the explicit pair of speaker slot s in row, or nil.
func entryOf(row []rowEntry, s int32) *rowEntry {
	for i := range row {
		if row[i].speaker == s {
			return &row[i]
		}
	}
	return nil
}
