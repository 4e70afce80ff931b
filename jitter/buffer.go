package jitter

import (
	"fmt"
	"sync"
	"time"

	"confd/codec"
)

// seqBase offsets extended sequence numbers so that they stay positive however far a stream
// reorders below its first packet.
const seqBase = 1 << 32

// ptInfo is the buffer's view of one payload type, looked up by number without a map.
type ptInfo struct {
	valid bool
	kind  Kind
	codec codec.Codec
	clock int
	dec   int // index into Buffer.decoders for Audio
}

// Buffer is the adaptive playout buffer of one leg: Push stores the leg's RTP packets as they
// arrive, and once per 20 ms tick Advance moves the playout to the tick and Read decodes it.
//
// Push is called from the leg's reader goroutine while Advance and Read are called from the
// room's tick goroutine, so the two sides meet at a sync.Mutex that guards the packet store and
// the arrival statistics: both sides hold it for well under a microsecond and never while
// decoding, so it is uncontended in practice and, unlike a lock-free ring, it lets the tick look
// at any packet in the window (reordering, FEC from the next packet). Stats may be called from
// any goroutine. A Buffer must be made with New.
type Buffer struct {
	cfg      Config
	pts      [128]ptInfo
	decoders []codec.Decoder

	mu sync.Mutex
	// The fields up to tickState are shared between Push and Advance, under mu.
	epoch      time.Time
	epochSet   bool
	store      store
	probation  Probation // which packets make the stream: the one rule, shared with RTCP's statistics
	seqSet     bool
	next       int64  // extended sequence number of the next packet to play
	highest    int64  // highest extended sequence number stored
	started    bool   // the playout has taken a packet of this stream; next no longer moves back
	playedMask uint64 // bit i: packet next-1-i was played, so an arrival of it is a duplicate
	restart    bool   // the stream restarted: the tick side must drop its state
	tsSet      bool   // the media mapping below is anchored
	tsClock    int
	refTs      uint32 // timestamp of the newest audio packet ...
	refMedia   int64  // ... and its place in the media timeline, in samples at codec.SampleRate
	lastStep   int64  // media samples between the last two consecutive audio packets
	delay      delayEstimator

	tick tickState

	stats counters
}

// New returns a Buffer for cfg, with every slot, decoder and buffer it will use allocated.
func New(cfg Config) (*Buffer, error) {
	cfg, err := cfg.normalized()
	if err != nil {
		return nil, err
	}
	b := &Buffer{cfg: cfg}
	for _, pt := range cfg.PayloadTypes {
		if pt.Type > 127 {
			return nil, fmt.Errorf("%w: payload type %d above 127", ErrBadConfig, pt.Type)
		}
		if b.pts[pt.Type].valid {
			return nil, fmt.Errorf("%w: payload type %d listed twice", ErrBadConfig, pt.Type)
		}
		info := ptInfo{valid: true, kind: pt.Kind, codec: pt.Codec, clock: pt.Clock(), dec: -1}
		switch pt.Kind {
		case Audio:
			dec, err := cfg.NewDecoder(pt.Codec)
			if err != nil {
				return nil, fmt.Errorf("jitter: payload type %d: %w", pt.Type, err)
			}
			info.dec = len(b.decoders)
			b.decoders = append(b.decoders, dec)
		case TelephoneEvent, ComfortNoise:
		default:
			return nil, fmt.Errorf("%w: payload type %d has unknown kind %d", ErrBadConfig, pt.Type, pt.Kind)
		}
		if info.clock <= 0 || info.clock > 384000 {
			return nil, fmt.Errorf("%w: payload type %d clock rate %d", ErrBadConfig, pt.Type, info.clock)
		}
		b.pts[pt.Type] = info
	}
	b.store = newStore(cfg.Capacity, cfg.MaxPayloadSize)
	b.delay.init(cfg.MaxDelay, cfg.StartDelay)
	b.lastStep = codec.FrameSamples
	b.tick.init(b)
	b.stats.targetDelay.Store(int64(cfg.StartDelay))
	return b, nil
}

// String describes the buffer for pipeline printouts, e.g. "jitter(0-200ms, 32 slots)".
func (b *Buffer) String() string {
	return fmt.Sprintf("jitter(%v-%v, %d slots)", b.cfg.MinDelay, b.cfg.MaxDelay, b.cfg.Capacity)
}

// clockLocked returns now in ns since the buffer's first call, keeping time.Time's monotonic
// reading when there is one.
func (b *Buffer) clockLocked(now time.Time) int64 {
	if !b.epochSet {
		b.epoch, b.epochSet = now, true
	}
	return int64(now.Sub(b.epoch))
}

// samplesToNs converts samples at codec.SampleRate to ns (exact for whole samples: 62500/3 ns each).
func samplesToNs(s int64) int64 { return s * 62500 / 3 }

// nsToSamples converts ns to samples at codec.SampleRate, rounding towards zero.
func nsToSamples(ns int64) int64 { return ns * 3 / 62500 }

// Push stores one received packet, arrived at now. Audio packets wait for the playout;
// telephone-event and comfort-noise packets are handed to Config.OnEvent and use up their
// sequence numbers without being played. Late packets, duplicates and packets too far ahead are
// dropped and counted (see Stats), which is not an error. Push returns ErrUnknownPayloadType,
// ErrPayloadTooLarge or ErrEmptyPayload for a packet that no negotiated stream can contain; such a
// packet changes nothing but the Invalid count. Push allocates nothing (unless OnEvent does).
func (b *Buffer) Push(p Packet, now time.Time) error {
	if p.PayloadType > 127 || !b.pts[p.PayloadType].valid {
		b.stats.invalid.Add(1)
		return ErrUnknownPayloadType
	}
	info := &b.pts[p.PayloadType]
	if len(p.Payload) > b.cfg.MaxPayloadSize {
		b.stats.invalid.Add(1)
		return ErrPayloadTooLarge
	}
	if info.kind == Audio && len(p.Payload) == 0 {
		b.stats.invalid.Add(1)
		return ErrEmptyPayload
	}
	b.stats.pushed.Add(1)
	b.mu.Lock()
	deliver := b.pushLocked(&p, info, b.clockLocked(now))
	b.mu.Unlock()
	if deliver {
		b.stats.events.Add(1)
		if b.cfg.OnEvent != nil {
			b.cfg.OnEvent(Event{
				Kind: info.kind, PayloadType: p.PayloadType, SequenceNumber: p.SequenceNumber,
				Timestamp: p.Timestamp, Marker: p.Marker, ClockRate: info.clock, Payload: p.Payload,
			}, now)
		}
	}
	return nil
}

// pushLocked stores p and reports whether it is an event to hand to OnEvent.
func (b *Buffer) pushLocked(p *Packet, info *ptInfo, now int64) (deliver bool) {
	// A new source restarts the stream (RFC 3550 section 8), but only once two of its packets
	// come in a row: a stray packet, or two sources interleaved, must not flush a live one.
	switch take, restart := b.probation.Source(p.SSRC); {
	case !take:
		b.stats.strays.Add(1)
		return false
	case restart:
		b.restartLocked()
	}
	capacity := int64(len(b.store.slots))
	var ext int64
	if !b.seqSet {
		ext = seqBase + int64(p.SequenceNumber)
		b.next, b.highest, b.seqSet = ext, ext, true
	} else {
		ext = b.highest + int64(int16(p.SequenceNumber-uint16(b.highest)))
	}
	isEvent := info.kind != Audio
	switch {
	case ext < b.next-capacity || ext >= b.next+capacity:
		// A jump no reordering explains: a sender that restarted its numbering, or garbage. As
		// RFC 3550 appendix A.1 does, believe it only when the next packet continues it.
		if !b.probation.Jump(p.SequenceNumber) {
			b.stats.overflow.Add(1)
			return false
		}
		b.restartLocked()
		ext = seqBase + int64(p.SequenceNumber)
		b.next, b.highest, b.seqSet = ext, ext, true
	case ext < b.next:
		if !b.started && b.highest-ext < capacity {
			b.next = ext // nothing played yet: an earlier packet arrived after a later one
			break
		}
		if d := b.next - 1 - ext; d < 64 && b.playedMask>>uint(d)&1 == 1 {
			b.stats.duplicates.Add(1)
			return false
		}
		b.stats.late.Add(1)
		return isEvent // events are not timed by the playout: hand them on anyway
	}
	sl := b.store.at(ext)
	if sl.filled && sl.ext == ext {
		b.stats.duplicates.Add(1)
		return false
	}
	sl.ext, sl.filled, sl.kind, sl.pt, sl.marker = ext, true, info.kind, p.PayloadType, p.Marker
	sl.level, sl.hasLevel, sl.voice = p.Level, p.HasLevel, p.Voice
	sl.arrival = now
	sl.n = copy(sl.payload, p.Payload)
	if !isEvent {
		if info.clock != b.tsClock && b.tsSet && ext < b.highest {
			// A straggler of the codec before a change: its clock no longer maps to the
			// timeline, so place it by its sequence number and leave the estimator alone.
			sl.media = b.refMedia - (b.highest-ext)*b.lastStep
		} else {
			sl.media = b.placeLocked(p.Timestamp, info.clock, now)
		}
	}
	if ext > b.highest {
		b.highest = ext
	}
	return isEvent
}

// placeLocked maps an audio packet's timestamp to the media timeline (samples at
// codec.SampleRate) and feeds its arrival to the delay estimator.
func (b *Buffer) placeLocked(ts uint32, clock int, now int64) int64 {
	if !b.tsSet || clock != b.tsClock {
		// First packet, or a codec change with a new clock (RFC 3550 section 5.1 leaves the
		// timestamp's rate to the payload type): continue the timeline one packet step after the
		// newest packet, and measure transit afresh.
		base := int64(0)
		if b.tsSet {
			base = b.refMedia + b.lastStep
		}
		b.refTs, b.refMedia, b.tsClock, b.tsSet = ts, base, clock, true
		b.delay.resetWindow()
	}
	d := int64(int32(ts - b.refTs))
	media := b.refMedia + d*codec.SampleRate/int64(clock)
	transit := now - samplesToNs(media)
	if minT, ok := b.delay.minTransit(); ok && (transit-minT > int64(jumpLimit) || minT-transit > int64(jumpLimit)) {
		// The timestamps jumped: re-anchor the timeline so that this packet looks as fast as the
		// fastest recent one, rather than measuring seconds of "delay" or playing seconds of gap.
		media += nsToSamples(transit - minT)
		transit = now - samplesToNs(media)
		b.refTs, b.refMedia = ts, media
		b.stats.jumps.Add(1)
	} else if d > 0 {
		if step := media - b.refMedia; step <= int64(codec.MaxPacketSamples) {
			b.lastStep = step
		}
		b.refTs, b.refMedia = ts, media
	}
	b.delay.addDelay(b.delay.addTransit(now, transit))
	return media
}

// restartLocked forgets the stream, as for a new SSRC (RFC 3550 section 8): stored packets are
// dropped and the tick side resets its decoders. The jitter histogram is kept: the network is
// the same.
func (b *Buffer) restartLocked() {
	b.store.clear()
	b.seqSet, b.started, b.playedMask, b.tsSet = false, false, 0, false
	b.delay.resetWindow()
	b.restart = true
	b.stats.restarts.Add(1)
}
