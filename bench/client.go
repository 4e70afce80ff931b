package bench

import (
	"fmt"
	"math"
	"math/rand/v2"

	"confd/codec"
	"confd/jitter"
)

// Recording is what one simulated client sends, made once and replayed in a loop so that the
// measured loop pays for nothing the client would do: one entry per 20 ms tick, the RTP payload
// or nil when the client sends nothing (Opus DTX between keep-alive frames, RFC 7587 section
// 3.1.3), and the RFC 6464 level the client would put in a header extension.
type Recording struct {
	// Codec is the codec of the payloads.
	Codec codec.Codec
	// PayloadType is the RTP payload type the client sends them with (RFC 3551: 0 for PCMU,
	// 8 for PCMA; 111 for Opus, jitter.Config's default dynamic number).
	PayloadType uint8
	// WithLevel makes the client send the RFC 6464 level of every packet, as browsers do.
	WithLevel bool
	frames    [][]byte
	levels    []codec.Level
}

// PayloadTypeOf returns the RTP payload type the simulated clients use for c: the static one of
// RFC 3551, or 111 for Opus (jitter.Config's default table).
func PayloadTypeOf(c codec.Codec) uint8 {
	if pt, ok := c.StaticPayloadType(); ok {
		return pt
	}
	return 111
}

// Ticks returns the number of 20 ms ticks in the recording.
func (r *Recording) Ticks() int { return len(r.frames) }

// Payload returns what the client sends at tick i of the recording (nil: nothing).
func (r *Recording) Payload(i int) []byte { return r.frames[i%len(r.frames)] }

// Record encodes ticks frames of the audio that capture writes (one codec.Frame per call) with
// a real encoder of f, as the client's own encoder would, after preroll frames that warm the
// encoder up and are thrown away (so that the recording loops without a cold encoder's start).
func Record(f codec.Format, preroll, ticks int, capture func(pcm []int16)) (*Recording, error) {
	if f.Normalized().PacketTime != codec.FrameDuration {
		return nil, fmt.Errorf("bench: recordings are of 20 ms packets, not %v", f.PacketTime)
	}
	enc, err := codec.NewEncoder(f)
	if err != nil {
		return nil, err
	}
	r := &Recording{Codec: f.Codec, PayloadType: PayloadTypeOf(f.Codec)}
	var pcm codec.Frame
	buf := make([]byte, codec.MaxPayloadSize)
	for i := range preroll + ticks {
		capture(pcm[:])
		n, err := enc.Encode(pcm[:], buf)
		if err != nil {
			return nil, fmt.Errorf("bench: encoding %s: %w", f, err)
		}
		if i < preroll {
			continue
		}
		var payload []byte
		if n > 0 {
			payload = append([]byte(nil), buf[:n]...)
		}
		r.frames = append(r.frames, payload)
		r.levels = append(r.levels, codec.LevelOf(pcm[:]))
	}
	return r, nil
}

// DTXRecording returns the stream of a muted or silent Opus client with DTX on, reduced to what
// RFC 7587 section 3.1.3 requires of it: a one-byte payload (a bare TOC byte of a 20 ms
// frame, which decoders treat as "no audio") every 400 ms and nothing in between. It is the
// cheapest stream a listener can send, and the common one in a large room.
func DTXRecording() *Recording {
	r := &Recording{Codec: codec.Opus, PayloadType: PayloadTypeOf(codec.Opus)}
	// TOC 0x78: configuration 15 (hybrid, fullband, 20 ms), mono, one frame (RFC 6716
	// section 3.1), the TOC libopus writes for its DTX frames at 32 kbit/s.
	toc := []byte{0x78}
	for i := range 20 {
		var p []byte
		if i == 0 {
			p = toc
		}
		r.frames = append(r.frames, p)
		r.levels = append(r.levels, codec.Silence)
	}
	return r
}

// NoiseCapture returns a capture function of white noise at about dBFS decibels below full
// scale (RMS), from a seeded generator: the near-silence of an open G.711 microphone.
func NoiseCapture(dBFS float64, seed uint64) func(pcm []int16) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	amp := 32767 * math.Pow(10, dBFS/20) * 1.7320508 // uniform noise: RMS = amplitude/√3
	return func(pcm []int16) {
		for i := range pcm {
			pcm[i] = int16((rng.Float64()*2 - 1) * amp)
		}
	}
}

// Client replays a Recording as one RTP stream (RFC 3550 section 5.1): its own SSRC, a sequence
// number that grows by one per packet sent, a timestamp that grows with the audio clock whether
// or not a packet was sent, and the marker bit on the first packet after a silence (RFC 3551
// section 4.1). Next allocates nothing.
type Client struct {
	rec      *Recording
	i        int
	ssrc     uint32
	seq      uint16
	ts       uint32
	step     uint32
	sentLast bool
}

// NewClient returns a client that replays rec from tick start (an offset, so that clients of
// one recording do not all send the same packet at once) with the given SSRC.
func NewClient(rec *Recording, ssrc uint32, start int) *Client {
	return &Client{rec: rec, i: start, ssrc: ssrc, seq: uint16(ssrc >> 7), ts: ssrc * 3,
		step: uint32(rec.Codec.ClockRate() / 50)}
}

// Next returns the packet of the next 20 ms, and false when the client sends nothing for it.
func (c *Client) Next() (jitter.Packet, bool) {
	r := c.rec
	k := c.i % len(r.frames)
	c.i++
	payload := r.frames[k]
	ts := c.ts
	c.ts += c.step
	if payload == nil {
		c.sentLast = false
		return jitter.Packet{}, false
	}
	p := jitter.Packet{PayloadType: r.PayloadType, SequenceNumber: c.seq, Timestamp: ts,
		Marker: !c.sentLast, SSRC: c.ssrc, Payload: payload}
	if r.WithLevel {
		p.Level, p.HasLevel, p.Voice = r.levels[k], true, r.levels[k] > -50
	}
	c.seq++
	c.sentLast = true
	return p, true
}
