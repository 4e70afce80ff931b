package mixer

import "confd/codec"

// SetFormat changes the encoding of what participant id hears (a codec change mid-call, or a new
// expected loss for Opus FEC) and keeps everything else about it: its role, mute, deafness and
// matrix row. Allocation happens here, if the Format is new, and not in Tick. The zero Format
// means the participant hears nothing from now on.
func (m *Mixer) SetFormat(id ID, f codec.Format) error {
	p, err := m.lookup(id)
	if err != nil {
		return err
	}
	fi := int32(-1)
	if f.Codec != 0 {
		if fi, err = m.formatFor(m.outputFormat(&participant{req: f, rowPanned: p.rowPanned})); err != nil {
			return err
		}
	}
	p.req = f
	m.switchFormat(p, fi)
	return nil
}

// switchFormat moves p to the output Format of index fi (-1: it hears nothing), leaving any
// private encoder behind; its next packet is a new talkspurt.
func (m *Mixer) switchFormat(p *participant, fi int32) {
	if fi == p.format {
		return
	}
	m.releasePrivate(p)
	if p.format >= 0 {
		fs := m.formats[p.format]
		fs.users--
		if fs.format.Stereo {
			m.stereoUsers--
		}
	}
	p.format, p.grp, p.lastEmpty, p.out = fi, nil, true, Output{}
	if fi >= 0 {
		fs := m.formats[fi]
		fs.users++
		if fs.format.Stereo {
			m.stereoUsers++
		}
		m.prewarm(fs)
	}
}

// SetTopK changes how many talkers are mixed at most, from the next tick on (a room's settings
// changed); 0 means the default of 3, and more than MaxTopK means MaxTopK. When K shrinks, the
// quietest talkers beyond the new K+1 places fade out in the next tick.
func (m *Mixer) SetTopK(k int) {
	c := m.cfg
	c.TopK = k
	m.cfg.TopK = c.withDefaults().TopK
	if len(m.ramped) < m.cfg.TopK+1 {
		m.ramped = make([]codec.Frame, m.cfg.TopK+1)
	}
	m.candidates = m.candidates[:0:0] // make growScratch size the lists for the new K
	m.growScratch()
}
