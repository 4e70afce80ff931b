package mixer

import (
	"time"

	"confd/codec"
)

// SetSolo makes listener hear speaker alone, at full level, from the next tick on, instead of
// the room: an RTP forwarder that streams one participant's own audio to a transcriber (issue
// 13). speaker 0 gives the listener the room back. The speaker is read every tick it sends
// something, whether or not it is among the talkers, so that a quiet or outvoiced speaker is
// still forwarded whole; a muted speaker is silence (mute means "heard by no one"). The
// listener's packets come from a private encode of its own. When the speaker leaves, the
// listener hears silence.
func (m *Mixer) SetSolo(listener, speaker ID) error {
	l, err := m.lookup(listener)
	if err != nil {
		return err
	}
	if speaker != 0 {
		if _, err := m.lookup(speaker); err != nil {
			return err
		}
		if speaker == listener {
			return ErrSelfPair
		}
	}
	l.solo = speaker
	return nil
}

// Solo returns the speaker that listener hears alone, 0 for none.
func (m *Mixer) Solo(listener ID) ID {
	if l, err := m.lookup(listener); err == nil {
		return l.solo
	}
	return 0
}

// listenSolo is listen for a listener with a solo speaker: the speaker's frame, read now if
// nothing has read it this tick, into the listener's private group. It allocates nothing.
func (m *Mixer) listenSolo(p *participant, fs *formatState, now time.Time) *group {
	f := m.soloFrame(p.solo)
	if f == nil && p.priv == nil {
		return fs.silent
	}
	g := m.usePrivate(p, fs)
	if g == nil {
		return fs.silent
	}
	p.lingerTill = now.Add(m.cfg.PrivateLinger)
	if f == nil {
		m.out.Clear()
		f = &m.out
	}
	m.tickPrivate++
	m.putFrame(g, f[:])
	return g
}

// soloFrame returns the frame of speaker id for this tick, reading it when no phase of the
// tick has; nil when the speaker is gone, muted or sent nothing.
func (m *Mixer) soloFrame(id ID) *codec.Frame {
	s, ok := m.index[id]
	if !ok {
		return nil
	}
	q := &m.slots[s]
	if q.muted || !q.present || q.src == nil {
		return nil
	}
	if q.readTick != m.tick {
		if !q.src.Read(q.frame) {
			return nil
		}
		q.readTick = m.tick
		m.tickDecodes++
	}
	return q.frame
}
