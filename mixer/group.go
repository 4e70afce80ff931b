package mixer

import (
	"fmt"

	"confd/codec"
)

// groupKind says whose mix an output group encodes.
type groupKind uint8

const (
	groupShared  groupKind = iota // the sum of the mixed talkers, for every default listener
	groupSilent                   // digital silence, for the deaf and those with nothing to hear
	groupPrivate                  // one listener's own mix: a mixed talker or a custom row
)

func (k groupKind) String() string {
	switch k {
	case groupShared:
		return "shared"
	case groupSilent:
		return "silent"
	}
	return "private"
}

// group is an output group: one encoder, the PCM it accumulates until a packet is due, and the
// payload every member borrows. Buffers are allocated when the group is made and reused for its
// life; private groups go back to their Format's pool, encoder and all, when their listener
// returns to a shared group.
type group struct {
	fs      *formatState
	kind    groupKind
	enc     codec.Encoder
	accum   []int16   // the packet being accumulated, Format.Samples() long
	last    []int16   // the PCM of the last packet
	history [][]int16 // shared groups: the last primePackets packets, oldest first, to prime with
	payload []byte
	n       int    // payload length of the packet due this tick; 0 is DTX
	due     uint64 // the tick whose packet payload holds
	members int    // listeners this tick (shared and silent groups)
}

// String describes the group for printouts, e.g. "shared opus/48000 20ms 32kbit/s c5".
func (g *group) String() string { return g.kind.String() + " " + g.fs.format.String() }

// formatState is everything the mixer keeps per distinct output Format: its shared and silent
// groups, the pool of idle private groups, and the packet timing.
type formatState struct {
	format   codec.Format // normalised
	frames   int          // ticks per packet
	frameLen int          // samples of one tick in the packet: codec.FrameSamples per channel
	rtpUnits uint32       // RTP timestamp advance per packet, in the codec's clock
	users    int          // participants with this Format
	shared   *group
	silent   *group
	idle     []*group // private groups not in use
	private  int      // private groups made for this Format, in use or idle
	// Per tick:
	frame int  // index of this tick's frame within the packet
	isDue bool // this tick ends a packet
}

// formatFor returns the index of f's state, making it (and its shared and silent encoders) on
// first use.
func (m *Mixer) formatFor(f codec.Format) (int32, error) {
	if err := f.Validate(); err != nil {
		return -1, err
	}
	f = f.Normalized()
	if i, ok := m.formatIndex[f]; ok {
		return i, nil
	}
	fs := &formatState{
		format:   f,
		frames:   int(f.PacketTime / codec.FrameDuration),
		frameLen: codec.FrameSamples * f.Channels(),
		rtpUnits: uint32(f.Codec.RTPUnits(f.PacketTime)),
	}
	var err error
	if fs.shared, err = m.newGroup(fs, groupShared); err != nil {
		return -1, err
	}
	if fs.silent, err = m.newGroup(fs, groupSilent); err != nil {
		return -1, err
	}
	m.formats = append(m.formats, fs)
	i := int32(len(m.formats) - 1)
	m.formatIndex[f] = i
	return i, nil
}

func (m *Mixer) newGroup(fs *formatState, kind groupKind) (*group, error) {
	enc, err := m.cfg.NewEncoder(fs.format)
	if err != nil {
		return nil, fmt.Errorf("mixer: encoder for %s: %w", fs.format, err)
	}
	n := fs.format.Samples() * fs.format.Channels()
	g := &group{fs: fs, kind: kind, enc: enc, accum: make([]int16, n), last: make([]int16, n),
		payload: make([]byte, codec.MaxPayloadSize)}
	if kind == groupShared {
		for range primePackets {
			g.history = append(g.history, make([]int16, n))
		}
	}
	m.stats.encodersMade.Add(1)
	return g, nil
}

// prewarm fills fs's pool so that the usual churn of talkers (K of them, each lingering a
// while after it stops) finds idle encoders and the tick does not allocate.
func (m *Mixer) prewarm(fs *formatState) {
	want := min(fs.users, 2*m.cfg.TopK+2)
	for fs.private < want {
		g, err := m.newGroup(fs, groupPrivate)
		if err != nil {
			m.log.Warn("mixer: cannot make a spare encoder", "format", fs.format.String(), "err", err)
			return
		}
		fs.idle = append(fs.idle, g)
		fs.private++
	}
}

// usePrivate gives p its own group, taking one from the pool (making one only if the pool is
// empty). The encoder takes over the state of the shared encoder p listened to when it can
// (StateCopier); otherwise it is reset and primed with that group's last packets, so that its
// look-ahead and prediction start from what p's decoder has just heard and the switch does not
// click. The packet in progress starts from the same group's frames so far.
func (m *Mixer) usePrivate(p *participant, fs *formatState) *group {
	if p.priv != nil {
		return p.priv
	}
	var g *group
	if n := len(fs.idle); n > 0 {
		g = fs.idle[n-1]
		fs.idle = fs.idle[:n-1]
	} else {
		var err error
		if g, err = m.newGroup(fs, groupPrivate); err != nil {
			m.stats.encodeErrors.Add(1)
			return nil
		}
		fs.private++
	}
	prev := p.grp
	if prev == nil || prev.fs != fs {
		prev = fs.silent
	}
	copier, canCopy := g.enc.(StateCopier)
	switch {
	case prev.kind == groupSilent || m.noPrime:
		g.enc.Reset()
	case canCopy && copier.CopyStateFrom(prev.enc) == nil:
	default:
		m.prime(g, prev.history)
	}
	if prev.kind == groupSilent {
		clear(g.accum)
	} else {
		copy(g.accum[:fs.frame*fs.frameLen], prev.accum)
	}
	copy(g.last, prev.last)
	g.due = 0
	p.priv = g
	return g
}

// prime resets g's encoder and runs it over history (discarding the payloads), so that its
// look-ahead and prediction hold the recent past of the audio it is about to continue.
func (m *Mixer) prime(g *group, history [][]int16) {
	g.enc.Reset()
	for _, pkt := range history {
		if _, err := g.enc.Encode(pkt, g.payload); err != nil {
			m.stats.encodeErrors.Add(1)
		}
		m.tickEncodes++
	}
}

// StateCopier is an optional interface of a codec.Encoder: CopyStateFrom makes the encoder an
// exact copy of src (same codec and Format), as libopus allows ("position independent and can be
// freely copied", opus.h). When a listener leaves the shared group for its own encoder, a copy of
// the shared encoder's state lets its decoder see a seamless continuation; without it the mixer
// primes the new encoder with the shared group's recent packets.
type StateCopier interface {
	CopyStateFrom(src codec.Encoder) error
}

// releasePrivate returns p's private group, if any, to its Format's pool.
func (m *Mixer) releasePrivate(p *participant) {
	g := p.priv
	if g == nil {
		return
	}
	p.priv = nil
	g.fs.idle = append(g.fs.idle, g)
}

// putFrame writes one tick's mix into the group's packet and encodes the packet when it is due.
func (m *Mixer) putFrame(g *group, pcm []int16) {
	fs := g.fs
	copy(g.accum[fs.frame*fs.frameLen:], pcm)
	if fs.isDue {
		m.encode(g)
	}
}

// encode encodes the accumulated packet; the payload stays valid until the group's next packet.
func (m *Mixer) encode(g *group) {
	n, err := g.enc.Encode(g.accum, g.payload)
	if err != nil {
		m.stats.encodeErrors.Add(1)
		n = 0
	}
	g.n, g.due = n, m.tick
	m.tickEncodes++
	m.tickGroups++
	g.finishPacket()
}

// finishPacket makes the accumulated packet the last one, and keeps a shared group's history.
func (g *group) finishPacket() {
	g.accum, g.last = g.last, g.accum
	if g.history != nil {
		oldest := g.history[0]
		copy(g.history, g.history[1:])
		copy(oldest, g.last)
		g.history[len(g.history)-1] = oldest
	}
}

const primePackets = 5

var primeN = 5
