package mixer

import (
	"fmt"
	"math"

	"confd/codec"
)

// Stereo placement.
//
// Every participant has a pan, -1 (hard left) to 1 (hard right), 0 by default: where stereo
// listeners hear it (SetPan). A matrix pair may carry a pan of its own that replaces the
// speaker's for that listener (SetPairPan, Pair.Pan). Pans are heard only by a listener whose
// Format asks for stereo (ParticipantConfig.Format.Stereo: its SDP said stereo=1) and only while
// a pan applies to it: some participant of the room has a pan other than 0, or its own row has
// one. Everyone else, mono codecs included, hears the mono mix exactly as without pans, and a
// stereo-capable listener in a room without pans shares the mono Format's encoders (a mono Opus
// packet is valid on a stereo stream, RFC 7587 section 3.4), so a room with no pan costs what it
// did before. Whether a listener hears stereo changes only between ticks (a setter); it then
// moves to the stereo Format's groups like a listener whose Format changed (SetFormat).
//
// The stereo mixes follow the mono ones one for one: a stereo shared mix (the shared talkers,
// each at its own pan), a stereo "all but me" for talkers, and private stereo mixes for rows that
// change a mixed talker's gain or pan. They are summed only in ticks where some listener hears
// stereo, and are encoded once per distinct mix like the mono ones: the stereo Format is its own
// output-group key (codec.Format.Stereo).
//
// The pan law is constant power (sine/cosine): left = cos θ, right = sin θ with θ = (pan+1)·π/4,
// so that left² + right² = 1 wherever a voice is placed and it does not get louder or quieter as
// it moves; a centred voice is at -3 dB in each channel.

// checkPan reports a pan outside -1 to 1 (or NaN) as ErrBadPan.
func checkPan(pan float32) error {
	if !(pan >= -1 && pan <= 1) {
		return fmt.Errorf("%w: %v", ErrBadPan, pan)
	}
	return nil
}

// panGains returns the constant-power left and right gains of pan, in Q14.
func panGains(pan float32) (l, r int32) {
	theta := (float64(pan) + 1) * math.Pi / 4
	return int32(math.Round(math.Cos(theta) * gainOne)), int32(math.Round(math.Sin(theta) * gainOne))
}

// SetPan places participant id for stereo listeners, -1 (left) to 1 (right), from the next tick.
// The first pan other than 0 in a room moves its stereo-capable listeners to stereo encoders;
// when the last returns to 0 they go back to the shared mono ones.
func (m *Mixer) SetPan(id ID, pan float32) error {
	p, err := m.lookup(id)
	if err != nil {
		return err
	}
	if err := checkPan(pan); err != nil {
		return err
	}
	if (p.pan != 0) != (pan != 0) {
		if pan != 0 {
			m.roomPans++
		} else {
			m.roomPans--
		}
	}
	p.pan = pan
	p.panL, p.panR = panGains(pan)
	m.placeAll()
	return nil
}

// Pan returns participant id's pan (0 for an unknown ID).
func (m *Mixer) Pan(id ID) float32 {
	p, err := m.lookup(id)
	if err != nil {
		return 0
	}
	return p.pan
}

// Stereo reports whether participant id hears a stereo mix now (its Format accepts stereo and a
// pan applies to it).
func (m *Mixer) Stereo(id ID) bool {
	p, err := m.lookup(id)
	return err == nil && p.format >= 0 && m.formats[p.format].format.Stereo
}

// outputFormat returns the Format p hears now: the one it asked for, stereo only when it
// accepts stereo and a pan applies to it.
func (m *Mixer) outputFormat(p *participant) codec.Format {
	f := p.req
	f.Stereo = f.Stereo && (m.roomPans > 0 || p.rowPanned)
	return f
}

// place moves p to the output Format it should hear now (see outputFormat). Called between
// ticks, so making a stereo Format's encoders here is allowed.
func (m *Mixer) place(p *participant) {
	p.rowPanned = false
	for _, e := range p.row {
		if e.panned && e.pan != 0 {
			p.rowPanned = true
		}
	}
	if !p.active || !p.req.Stereo {
		return
	}
	fi, err := m.formatFor(m.outputFormat(p))
	if err != nil {
		m.log.Warn("mixer: cannot make a stereo encoder", "id", p.id, "err", err)
		return
	}
	m.switchFormat(p, fi)
}

// placeAll places every participant after a change that may apply a pan to many (a room pan, a
// new matrix, a panned participant leaving).
func (m *Mixer) placeAll() {
	for i := range m.slots {
		m.place(&m.slots[i])
	}
}

// stereoAccumulator is one stereo mix being summed, interleaved left/right, in int32.
type stereoAccumulator [2 * codec.FrameSamples]int32

// addPanned sums f into a at the Q14 gains l and r.
func (a *stereoAccumulator) addPanned(f *codec.Frame, l, r int32) {
	for i, s := range f {
		a[2*i] += (int32(s) * l) >> 14
		a[2*i+1] += (int32(s) * r) >> 14
	}
}

// minusPanned writes all minus f at the Q14 gains l and r into a: a talker's stereo mix, its
// own placed voice subtracted before limiting (as accumulator.minusOne).
func (a *stereoAccumulator) minusPanned(all *stereoAccumulator, f *codec.Frame, l, r int32) {
	for i, s := range f {
		a[2*i] = all[2*i] - (int32(s)*l)>>14
		a[2*i+1] = all[2*i+1] - (int32(s)*r)>>14
	}
}

// limit converts a to int16 through the mono mixes' soft knee, each channel on its own.
func (a *stereoAccumulator) limit(out *codec.StereoFrame) { limitInto(a[:], out[:]) }

// sumStereo sums the tick's stereo mixes from the contributors loadContributors has loaded: every
// mixed talker at its pan, and the shared mix's talkers as the shared mix weighs them.
func (m *Mixer) sumStereo() {
	clear(m.stAll[:])
	clear(m.stSharedSum[:])
	for _, s := range m.mixed {
		p := &m.slots[s]
		m.stAll.addPanned(p.frame, p.panL, p.panR)
		if p.sharedPCM != nil {
			m.stSharedSum.addPanned(p.sharedPCM, p.panL, p.panR)
		}
	}
	m.stSharedSum.limit(&m.stShared)
}

// mixStereoFor is mixFor for a stereo listener.
func (m *Mixer) mixStereoFor(p *participant, s int32, inSet, own, custom bool) ([]int16, bool) {
	switch {
	case own && !custom:
		m.stAcc.minusPanned(&m.stAll, p.frame, p.panL, p.panR)
		m.stAcc.limit(&m.stOut)
		return m.stOut[:], len(m.mixed) > 1
	case !custom:
		return m.stShared[:], m.heardAll > 0
	}
	clear(m.stAcc[:])
	heard := m.sumContributions(p, s, inSet, true)
	m.stAcc.limit(&m.stOut)
	return m.stOut[:], heard
}

func (m *Mixer) addStereoContribution(p *participant, c int32, f *codec.Frame) bool {
	sp := &m.slots[c]
	q, l, r := int32(gainOne), sp.panL, sp.panR
	if e := entryOf(p.row, c); e != nil {
		q = e.q14
		if e.panned {
			l, r = e.panL, e.panR
		}
	}
	if q == 0 {
		return false
	}
	m.stAcc.addPanned(f, (q*l)>>14, (q*r)>>14)
	return true
}

// panMatters reports whether row entry e places its speaker sp elsewhere than sp's own pan.
func (e *rowEntry) panMatters(sp *participant) bool {
	return e.panned && (e.panL != sp.panL || e.panR != sp.panR)
}
