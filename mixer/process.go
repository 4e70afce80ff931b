package mixer

import "confd/codec"

// Processor cleans a participant's decoded audio before it is mixed: noise suppression and
// automatic gain (dsp.Preprocessor implements it). The mixer calls it only for the talkers and
// whispering coaches it mixes, the K+1 or so it decodes anyway, so a room of silent participants
// pays nothing for it; the level that selects talkers is measured before it, on what the
// participant sent.
type Processor interface {
	// Process cleans the tick's frame in place. continues is true when the participant's
	// previous frame went through Process in the previous tick, false after a tick in which it
	// was not mixed (and for the first frame): a processor with memory of the signal (an
	// overlap, a filter's state) must not splice the old signal onto the new. A mixed talker
	// whose input had nothing this tick (a loss past concealment) gives a frame of silence.
	Process(f *codec.Frame, continues bool)
}

// SetProcessor sets participant id's Processor from the next tick on, or removes it (nil). The
// caller owns the Processor and frees it after removing it (or after Remove).
func (m *Mixer) SetProcessor(id ID, proc Processor) error {
	p, err := m.lookup(id)
	if err != nil {
		return err
	}
	p.proc, p.procTick = proc, 0
	return nil
}

// process runs p's Processor, if any, over its frame of this tick, once.
func (m *Mixer) process(p *participant) {
	if p.proc == nil || p.procTick == m.tick {
		return
	}
	p.proc.Process(p.frame, p.procTick != 0 && p.procTick+1 == m.tick)
	p.procTick = m.tick
}
