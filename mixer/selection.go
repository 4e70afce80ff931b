package mixer

// selectTalkers updates the set of mixed talkers (TopK+1 places, see doc.go) from this tick's
// detectors, then which TopK of them make the shared mix. A talker leaves
// when a rule removes it (cut at once) or when its hold runs out (faded over the frame). Free
// places go to the loudest candidates; when all TopK places are taken, a candidate replaces the
// quietest mixed talker only if it is SwitchMarginDB louder, so two talkers of similar level do
// not take turns every tick. The candidate list holds only participants who are talking, so
// this costs O(K·talking), not O(N).
func (m *Mixer) selectTalkers() {
	m.talkers, m.leavingTalkers = m.prune(m.talkers, m.leavingTalkers[:0], false)
	for len(m.talkers) > m.cfg.TopK+1 { // SetTopK made the set smaller
		wi := m.weakest()
		w := m.talkers[wi]
		m.slots[w].fade, m.slots[w].inTalkers = fadeOut, false
		m.leavingTalkers = append(m.leavingTalkers, w)
		m.talkers = append(m.talkers[:wi], m.talkers[wi+1:]...)
	}
	for len(m.candidates) > 0 {
		bi := 0
		for i, s := range m.candidates {
			if m.slots[s].rank > m.slots[m.candidates[bi]].rank {
				bi = i
			}
		}
		b := m.candidates[bi]
		if len(m.talkers) < m.cfg.TopK+1 {
			m.talkers = append(m.talkers, b)
		} else {
			wi := m.weakest()
			w := m.talkers[wi]
			if m.slots[b].rank < m.slots[w].rank+m.switchMargin {
				break // the loudest candidate is not enough louder, so neither is any other
			}
			m.talkers[wi] = b
			m.slots[w].fade, m.slots[w].inTalkers = fadeOut, false
			m.leavingTalkers = append(m.leavingTalkers, w)
		}
		m.slots[b].fade, m.slots[b].inTalkers = m.entry(b), true
		last := len(m.candidates) - 1
		m.candidates[bi] = m.candidates[last]
		m.candidates = m.candidates[:last]
	}
	m.chooseReserve()
}

// entry returns how the talker in slot s enters the mix: faded in over the frame, or at full
// level when it is Premixed and began talking this tick, from silence, which its own mix faded
// it in from already. A Premixed source that had been talking (outvoiced until now) is faded in
// like any other, since it enters in the middle of a sound.
func (m *Mixer) entry(s int32) fade {
	if p := &m.slots[s]; p.premixed && p.onsetTick == m.tick {
		return fadeEnter
	}
	return fadeIn
}

// chooseReserve picks, when all TopK+1 places are taken, the one talker left out of the shared
// mix: the quietest, except that the previous reserve stays reserve unless it has become
// SwitchMarginDB louder than the quietest of the others. It sets every contributor's weight in
// the shared mix; a talker that moves into or out of the shared mix while staying a talker is
// ramped over the frame (its private listeners keep hearing it at full level throughout).
func (m *Mixer) chooseReserve() {
	reserve := int32(-1)
	if len(m.talkers) > m.cfg.TopK {
		lo, prev := int32(-1), int32(-1)
		for _, s := range m.talkers {
			p := &m.slots[s]
			if lo < 0 || p.rank < m.slots[lo].rank {
				lo = s
			}
			if !p.inShared && p.fade == fadeNone {
				prev = s
			}
		}
		reserve = lo
		if prev >= 0 && prev != lo && m.slots[prev].rank < m.slots[lo].rank+m.switchMargin {
			reserve = prev
		}
	}
	for _, s := range m.talkers {
		p := &m.slots[s]
		now := s != reserve
		switch {
		case p.fade != fadeNone: // entering: the talker fade is the ramp
			p.weight = boolWeight(now)
		case now == p.inShared:
			p.weight = boolWeight(now)
		case now:
			p.weight = weightUp
		default:
			p.weight = weightDown
		}
		p.inShared = now
	}
	for _, s := range m.leavingTalkers {
		p := &m.slots[s]
		p.weight = boolWeight(p.inShared) // the talker fade is the ramp
		p.inShared = false
	}
}

// weight is how a talker enters the shared mix in one tick.
type weight uint8

const (
	weightZero weight = iota // not in the shared mix (the reserve talker)
	weightOne                // in the shared mix
	weightUp                 // moving into the shared mix: ramped up over the frame
	weightDown               // moving out of it: ramped down over the frame
)

func boolWeight(in bool) weight {
	if in {
		return weightOne
	}
	return weightZero
}

// weakest returns the index in m.talkers of the quietest talker.
func (m *Mixer) weakest() int {
	wi := 0
	for i, s := range m.talkers {
		if m.slots[s].rank < m.slots[m.talkers[wi]].rank {
			wi = i
		}
	}
	return wi
}

// selectCoaches updates the set of whispering coaches. Coaches are not counted in TopK: each is
// heard by one listener only, whose private mix it joins.
func (m *Mixer) selectCoaches() {
	m.coaches, m.leavingCoaches = m.prune(m.coaches, m.leavingCoaches[:0], true)
	for _, s := range m.coachCandidates {
		m.slots[s].fade, m.slots[s].inCoaches = fadeIn, true
		m.coaches = append(m.coaches, s)
	}
}

// prune keeps the members of a set (the talkers, or the coaches when coaches is true) that may
// stay, and moves the others to leaving: cut at once when a rule removed them (mute, role),
// faded over the frame when they merely stopped talking.
func (m *Mixer) prune(set, leaving []int32, coaches bool) (kept, left []int32) {
	kept = set[:0]
	for _, s := range set {
		p := &m.slots[s]
		allowed, member := p.heardByAll(), &p.inTalkers
		if coaches {
			allowed, member = p.whispers(), &p.inCoaches
		}
		switch {
		case !allowed:
			p.fade, *member = fadeCut, false
			leaving = append(leaving, s)
		case !p.talking:
			p.fade, *member = fadeOut, false
			leaving = append(leaving, s)
		default:
			p.fade = fadeNone
			kept = append(kept, s)
		}
	}
	return kept, leaving
}
