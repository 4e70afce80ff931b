package mixer

import (
	"fmt"
	"log/slog"
	"time"

	"confd/codec"
)

// Mixer is one room's matrix mixer. It owns no goroutine and no timer: the room's goroutine calls
// Tick every codec.FrameDuration and, between ticks, every other method. Only Stats may be called
// from other goroutines.
type Mixer struct {
	cfg          Config
	vp           voiceParams
	switchMargin float32
	log          *slog.Logger

	slots       []participant
	free        []int32
	index       map[ID]int32
	count       int
	formats     []*formatState
	formatIndex map[codec.Format]int32
	pairs       map[pairKey]pairValue
	roomPans    int // participants whose pan is not 0
	stereoUsers int // participants whose output Format is stereo

	tick            uint64
	talkers         []int32 // selected talkers, at most TopK
	coaches         []int32 // whispering coaches
	leavingTalkers  []int32 // talkers fading out this tick
	leavingCoaches  []int32 // coaches fading out this tick
	candidates      []int32 // talking, audible, not yet mixed: phase 1's output
	coachCandidates []int32
	mixed           []int32 // talker-class contributors this tick (talkers + leaving)
	whisper         []int32 // coach contributors this tick

	allSum    accumulator // the sum of every mixed talker: a talker's mix is this minus itself
	sharedSum accumulator // the shared mix (the loudest TopK talkers), before limiting
	partial   int         // contributors not fully in the shared mix this tick
	heardAll  int         // contributors with something in the shared mix this tick
	ramped    []codec.Frame
	shared    codec.Frame // the shared mix, limited
	acc       accumulator // scratch for a private mix
	out       codec.Frame

	// The stereo mixes (stereo.go), summed only while stereoUsers > 0.
	stAll, stSharedSum, stAcc stereoAccumulator
	stShared, stOut           codec.StereoFrame

	noPrime bool // tests only: measure an encoder switch without priming

	tickEncodes, tickDecodes, tickGroups, tickPrivate, tickStereo int
	stats                                                         counters
}

// New returns a mixer with cfg (zero values take their documented defaults).
func New(cfg Config, opts ...Option) *Mixer {
	cfg = cfg.withDefaults()
	m := &Mixer{
		cfg:          cfg,
		vp:           newVoiceParams(cfg),
		switchMargin: float32(cfg.SwitchMarginDB),
		log:          slog.Default(),
		index:        make(map[ID]int32),
		formatIndex:  make(map[codec.Format]int32),
		pairs:        make(map[pairKey]pairValue),
	}
	for _, o := range opts {
		o(m)
	}
	m.ramped = make([]codec.Frame, cfg.TopK+1)
	m.growScratch()
	return m
}

// String describes the mixer for pipeline printouts, e.g. "mixer K=3 12 participants 2 formats".
func (m *Mixer) String() string {
	return fmt.Sprintf("mixer K=%d %d participants %d formats", m.cfg.TopK, m.count, len(m.formats))
}

// Config returns the configuration in use, defaults filled in.
func (m *Mixer) Config() Config { return m.cfg }

// growScratch makes the per-tick lists large enough for every participant, so that appending
// to them in Tick never allocates.
func (m *Mixer) growScratch() {
	n := len(m.slots) + m.cfg.TopK
	if cap(m.candidates) >= n {
		return
	}
	n = max(2*n, 16)
	m.candidates = make([]int32, 0, n)
	m.coachCandidates = make([]int32, 0, n)
	m.coaches = append(make([]int32, 0, n), m.coaches...)
	m.talkers = append(make([]int32, 0, n), m.talkers...)
	m.leavingTalkers = make([]int32, 0, n)
	m.leavingCoaches = make([]int32, 0, n)
	m.mixed = make([]int32, 0, n)
	m.whisper = make([]int32, 0, n)
}

// Tick runs one mixer tick for the frame that starts at now: it advances every source, chooses
// the talkers, reads only what it must, mixes every distinct mix once and encodes every output
// group whose packet is due. Afterwards Output gives each participant's payload. It takes no
// lock and allocates nothing once the encoder pools are warm.
func (m *Mixer) Tick(now time.Time) {
	m.tick++
	m.tickEncodes, m.tickDecodes, m.tickGroups, m.tickPrivate, m.tickStereo = 0, 0, 0, 0, 0
	for _, fs := range m.formats {
		fs.frame = int((m.tick - 1) % uint64(fs.frames))
		fs.isDue = fs.frame == fs.frames-1
		fs.shared.members, fs.silent.members = 0, 0
	}
	m.observe(now)
	m.selectTalkers()
	m.selectCoaches()
	m.loadContributors()
	m.mixListeners(now)
	m.encodeShared()
	m.publish()

	c := &m.stats
	c.ticks.Add(1)
	c.encodes.Add(uint64(m.tickEncodes))
	c.decodes.Add(uint64(m.tickDecodes))
	c.encodesLast.Store(int64(m.tickEncodes))
	c.decodesLast.Store(int64(m.tickDecodes))
	c.groups.Store(int64(m.tickGroups))
	c.private.Store(int64(m.tickPrivate))
	c.stereo.Store(int64(m.tickStereo))
	c.talkers.Store(int64(len(m.talkers)))
	c.participants.Store(int64(m.count))
}

// premixedQuiet is how far below the least voice level the last tick must have been for a
// Premixed source that begins talking to enter unfaded: its far end's mix was silent, so the
// ramp in this tick's frame is the far end's fade-in. A source caught a tick late, whose last
// frame held the start of the sound, is faded in as any other.
const premixedQuiet codec.Level = 20

// unvoicedProbeTicks is how often a participant whose packets say they hold no speech, and whose
// last decoded frame was quiet, is decoded for its level all the same (200 ms): a sound the voice
// flag leaves out (a steady tone) becomes audible within that.
const unvoicedProbeTicks = 10

// observe is phase 1: every source advances, and each participant's level comes from the
// packet's metadata when it has some, else from decoding it. Muted participants and monitors,
// whom no one hears, are not decoded for a level (unless they must be faded out of the mix).
func (m *Mixer) observe(now time.Time) {
	m.candidates = m.candidates[:0]
	m.coachCandidates = m.coachCandidates[:0]
	for i := range m.slots {
		p := &m.slots[i]
		if !p.active {
			continue
		}
		var act codec.Activity
		if p.src != nil {
			act = p.src.Advance(now)
		}
		p.present = act.Present
		lvl := act.Level
		if act.Present && !act.LevelKnown {
			lvl = codec.Silence
			switch {
			case (p.muted || p.role == RoleMonitor) && !p.inTalkers && !p.inCoaches:
				p.present = false
			case act.Unvoiced && !p.talking && !p.inTalkers && !p.inCoaches && !p.unvoicedLoud && m.tick < p.unvoicedProbe:
				// Its packets say they hold no speech, it is not talking and it was quiet
				// when last decoded: silence, not decoded (an open microphone without DTX,
				// issue 9). One that is talking or loud is decoded, and a quiet one now and
				// then, so that a steady sound, which the voice flag soon leaves out, is
				// still heard.
			case p.src.Read(p.frame):
				p.readTick = m.tick
				m.tickDecodes++
				lvl = codec.LevelOf(p.frame[:])
				if act.Unvoiced {
					p.unvoicedLoud = lvl >= m.vp.minVoice
					// Its next probe at its own phase (its slot's), so that quiet
					// participants' probes spread over the ticks.
					const n = unvoicedProbeTicks
					p.unvoicedProbe = m.tick + 1 + (uint64(i)%n+n-(m.tick+1)%n)%n
				}
			default:
				p.present = false
			}
		}
		before := p.level // the last tick's
		loud, clear := p.measure(p.present, lvl, &m.vp)
		voice := loud && (clear || act.Voice)
		if loud && !act.Voice && (!clear || p.steady >= steadyTicks) {
			// Loud but on its own floor, or clear of it but steady for half a second:
			// a fan, or a steady tone or vowel. Only the waveform can tell, so look at
			// it now and then.
			if m.tick >= p.periodicAt {
				if f := m.probe(p); f != nil {
					p.periodic, p.periodicAt = periodic(f), m.tick+periodicTicks
				}
			}
			voice = p.periodic
		}
		was := p.talking
		p.decide(voice, now, &m.vp)
		if p.talking && !was && before <= m.vp.minVoice-premixedQuiet {
			p.onsetTick = m.tick // from silence (see ParticipantConfig.Premixed)
		}
		if !p.talking || p.inTalkers || p.inCoaches {
			continue
		}
		if p.heardByAll() {
			m.candidates = append(m.candidates, int32(i))
		} else if p.whispers() {
			m.coachCandidates = append(m.coachCandidates, int32(i))
		}
	}
}

// probe returns p's frame for this tick, reading it if phase 1 has not; nil when p is not heard by
// anyone anyway (muted, monitor) or sent nothing.
func (m *Mixer) probe(p *participant) *codec.Frame {
	if p.readTick == m.tick {
		return p.frame
	}
	if !p.present || p.src == nil || (p.muted || p.role == RoleMonitor) && !p.inTalkers && !p.inCoaches {
		return nil
	}
	if !p.src.Read(p.frame) {
		return nil
	}
	p.readTick = m.tick
	m.tickDecodes++
	return p.frame
}

// loadContributors is phase 2: it reads the frames of the mixed talkers and coaches that phase 1
// did not decode, shapes them for fading in or out, and sums the shared mix.
func (m *Mixer) loadContributors() {
	m.mixed = append(append(m.mixed[:0], m.talkers...), m.leavingTalkers...)
	m.whisper = append(append(m.whisper[:0], m.coaches...), m.leavingCoaches...)
	clear(m.allSum[:])
	clear(m.sharedSum[:])
	m.partial, m.heardAll = 0, 0
	ramps := 0
	for _, s := range m.mixed {
		p := &m.slots[s]
		m.load(p)
		p.mixedTick = m.tick
		m.allSum.add(p.frame)
		var scratch *codec.Frame
		if p.weight == weightUp || p.weight == weightDown {
			scratch = &m.ramped[ramps]
			ramps++
		}
		if p.weight != weightOne {
			m.partial++
		}
		if p.sharedPCM = applyWeight(p.frame, scratch, p.weight); p.sharedPCM != nil {
			m.sharedSum.add(p.sharedPCM)
			m.heardAll++
		}
	}
	for _, s := range m.whisper {
		p := &m.slots[s]
		m.load(p)
		if p.targetSlot >= 0 {
			m.slots[p.targetSlot].coachTick = m.tick
		}
	}
	m.sharedSum.limit(&m.shared)
	if m.stereoUsers > 0 {
		m.sumStereo()
	}
}

func (m *Mixer) load(p *participant) {
	if p.readTick != m.tick {
		p.readTick = m.tick
		if p.present && p.src != nil && p.src.Read(p.frame) {
			m.tickDecodes++
		} else {
			p.frame.Clear()
		}
	}
	m.process(p)
	applyFade(p.frame, p.fade)
}

// mixListeners decides, for every listener, which output group it hears this tick, and mixes
// and encodes the private ones. A default listener costs a few comparisons here.
func (m *Mixer) mixListeners(now time.Time) {
	for i := range m.slots {
		p := &m.slots[i]
		if !p.active || p.format < 0 {
			continue
		}
		fs := m.formats[p.format]
		g := m.listen(p, int32(i), fs, now)
		g.members++
		p.grp = g
		if fs.format.Stereo {
			m.tickStereo++
		}
	}
}

func (m *Mixer) listen(p *participant, s int32, fs *formatState, now time.Time) *group {
	if p.deaf {
		m.releasePrivate(p)
		return fs.silent
	}
	if p.solo != 0 {
		return m.listenSolo(p, fs, now)
	}
	inSet := p.mixedTick == m.tick
	// A talker's mix differs from the shared one unless it is the reserve and every other
	// talker is wholly in the shared mix: then "all but me" is the shared mix.
	own := inSet && !(p.weight == weightZero && m.partial == 1)
	stereo := fs.format.Stereo
	custom := p.coachTick == m.tick || m.rowMatters(p, stereo)
	if own || custom {
		p.lingerTill = now.Add(m.cfg.PrivateLinger)
	} else if p.priv == nil || (fs.frame == 0 && !now.Before(p.lingerTill)) {
		// Back to the shared mix only at a packet boundary, and only after the private mix
		// has equalled the shared one for a while, so the shared encoder's history is what
		// this listener has been hearing.
		m.releasePrivate(p)
		if fs.frame != 0 && p.grp != fs.shared {
			// The shared packet in progress holds frames mixed before this listener
			// joined it, perhaps with its own voice (a lone talker that has just
			// stopped): silence until the next packet starts.
			return fs.silent
		}
		return fs.shared
	}
	var pcm []int16
	var heard bool
	if stereo {
		pcm, heard = m.mixStereoFor(p, s, inSet, own, custom)
	} else {
		var f *codec.Frame
		f, heard = m.mixFor(p, s, inSet, own, custom)
		pcm = f[:]
	}
	if !heard && p.priv == nil {
		return fs.silent
	}
	g := m.usePrivate(p, fs)
	if g == nil {
		return fs.silent
	}
	m.tickPrivate++
	m.putFrame(g, pcm)
	return g
}

// rowMatters reports whether p's explicit pairs change the level of a talker mixed this tick,
// or, for a stereo listener, its place, at O(entries of the row).
func (m *Mixer) rowMatters(p *participant, stereo bool) bool {
	for i := range p.row {
		e := &p.row[i]
		sp := &m.slots[e.speaker]
		if sp.mixedTick == m.tick && (e.q14 != gainOne || stereo && e.panMatters(sp)) {
			return true
		}
	}
	return false
}

// mixFor computes p's private mix and reports whether it hears anyone. A talker with a default
// row hears the sum of all talkers minus itself; a default listener the shared mix; anything else
// is summed from the contributors with its gains: a talker from the other talkers at full level,
// any other listener from the shared mix's talkers as the shared mix weighs them.
func (m *Mixer) mixFor(p *participant, s int32, inSet, own, custom bool) (*codec.Frame, bool) {
	switch {
	case own && !custom:
		m.acc.minusOne(&m.allSum, p.frame)
		m.acc.limit(&m.out)
		return &m.out, len(m.mixed) > 1
	case !custom:
		return &m.shared, m.heardAll > 0
	}
	clear(m.acc[:])
	heard := m.sumContributions(p, s, inSet, false)
	m.acc.limit(&m.out)
	return &m.out, heard
}

// sumContributions sums p's own mix from the contributors into acc, or stAcc when stereo: a
// talker (inSet) hears the other talkers at full level, any other listener the shared mix's
// talkers as the shared mix weighs them, and p's whispering coaches. It reports whether p hears
// anyone.
func (m *Mixer) sumContributions(p *participant, s int32, inSet, stereo bool) bool {
	heard := false
	add := func(c int32, f *codec.Frame) {
		if stereo {
			heard = m.addStereoContribution(p, c, f) || heard
		} else {
			heard = m.addContribution(p, c, f) || heard
		}
	}
	for _, c := range m.mixed {
		f := m.slots[c].sharedPCM
		if inSet {
			f = m.slots[c].frame
		}
		if c != s && f != nil {
			add(c, f)
		}
	}
	for _, c := range m.whisper {
		if m.slots[c].targetSlot == s {
			add(c, m.slots[c].frame)
		}
	}
	return heard
}

func (m *Mixer) addContribution(p *participant, c int32, f *codec.Frame) bool {
	q := int32(gainOne)
	if e := entryOf(p.row, c); e != nil {
		q = e.q14
	}
	switch q {
	case 0:
		return false
	case gainOne:
		m.acc.add(f)
	default:
		m.acc.addGain(f, q)
	}
	return true
}

// encodeShared puts the shared mix into every Format's shared group and encodes the shared and
// silent groups that have listeners and a packet due.
func (m *Mixer) encodeShared() {
	for _, fs := range m.formats {
		if fs.users == 0 {
			continue
		}
		sh := fs.shared
		if fs.format.Stereo {
			copy(sh.accum[fs.frame*fs.frameLen:], m.stShared[:])
		} else {
			copy(sh.accum[fs.frame*fs.frameLen:], m.shared[:])
		}
		if !fs.isDue {
			continue
		}
		if sh.members > 0 {
			if sh.due+uint64(fs.frames) != m.tick {
				// Nobody listened to the previous packet, so the encoder skipped it:
				// bring its state up to date before a listener's decoder follows it.
				m.prime(sh, sh.history)
			}
			m.encode(sh)
		} else {
			sh.finishPacket()
		}
		if fs.silent.members > 0 {
			m.encode(fs.silent)
		}
	}
}

// publish sets every participant's Output from the group it heard.
func (m *Mixer) publish() {
	for i := range m.slots {
		p := &m.slots[i]
		if !p.active || p.format < 0 {
			continue
		}
		fs := m.formats[p.format]
		if !fs.isDue {
			p.out = Output{}
			continue
		}
		var payload []byte
		if g := p.grp; g.due == m.tick && g.n > 0 {
			payload = g.payload[:g.n]
		}
		p.out = Output{Payload: payload, Due: true, Marker: payload != nil && p.lastEmpty,
			TimestampStep: fs.rtpUnits}
		p.lastEmpty = payload == nil
	}
}

// Output is what one participant's leg sends after a tick.
type Output struct {
	// Payload is the RTP payload to send, borrowed from the participant's output group and
	// valid until the next Tick. It is nil when no packet is due this tick or when the encoder
	// chose to send nothing (Opus DTX).
	Payload []byte
	// Due is true when a packet time ended this tick: the leg's RTP timestamp advances by
	// TimestampStep after this tick whether or not Payload is nil.
	Due bool
	// Marker is true for the first packet after the leg sent nothing (its first packet, or
	// the end of a DTX silence): the RTP marker bit of a talkspurt (RFC 3551 section 4.1).
	Marker bool
	// TimestampStep is the packet's duration in the codec's RTP clock (960 for 20 ms of Opus,
	// 160 for 20 ms of PCMU).
	TimestampStep uint32
}

// Decode decodes what o carries into pcm as the receiving phone would: its payload, or, for a
// packet due without one (DTX), samples of dec's concealment. It returns how many samples it
// wrote: 0 when no packet was due.
func (o Output) Decode(dec codec.Decoder, pcm []int16, samples int) (int, error) {
	switch {
	case !o.Due:
		return 0, nil
	case o.Payload == nil:
		return dec.Conceal(pcm[:samples])
	}
	return dec.Decode(o.Payload, pcm)
}

// Output returns what participant id sends after the last tick (the zero Output for an unknown
// participant or one that receives nothing).
func (m *Mixer) Output(id ID) Output {
	if s, ok := m.index[id]; ok {
		return m.slots[s].out
	}
	return Output{}
}

// OutputGroup describes the output group participant id heard in the last tick (for example
// "shared opus/48000 20ms 32kbit/s c5"), for printouts and tests; "" when it heard none.
func (m *Mixer) OutputGroup(id ID) string {
	if s, ok := m.index[id]; ok && m.slots[s].grp != nil {
		return m.slots[s].grp.String()
	}
	return ""
}

// Talkers appends the IDs of the talkers mixed in the last tick to dst and returns it.
func (m *Mixer) Talkers(dst []ID) []ID {
	for _, s := range m.talkers {
		dst = append(dst, m.slots[s].id)
	}
	return dst
}

// Level returns participant id's speech level in dBov (the RFC 6464 scale) as of the last tick:
// the tick's level with a slow release, the figure talker selection ranks by (Silence for an
// unknown ID).
func (m *Mixer) Level(id ID) codec.Level {
	if s, ok := m.index[id]; ok {
		return codec.Level(m.slots[s].rank)
	}
	return codec.Silence
}

// Talking reports whether participant id's voice was active in the last tick or within the
// hold before it: the "talking" event and field of the control API.
func (m *Mixer) Talking(id ID) bool {
	if s, ok := m.index[id]; ok {
		return m.slots[s].talking
	}
	return false
}
