package jitter

import (
	"cmp"
	"fmt"
	"time"

	"confd/codec"
)

// Kind says what the packets of one RTP payload type carry.
type Kind uint8

const (
	// Audio is a payload type of an audio codec (RFC 3551), decoded and played.
	Audio Kind = iota
	// TelephoneEvent is RFC 4733 telephone-event (DTMF): handed to Config.OnEvent, never played.
	TelephoneEvent
	// ComfortNoise is RFC 3389 comfort noise: handed to Config.OnEvent and taken as the start of a
	// silence, never played and never concealed.
	ComfortNoise
)

// String names the kind as in SDP ("audio", "telephone-event", "CN").
func (k Kind) String() string {
	switch k {
	case Audio:
		return "audio"
	case TelephoneEvent:
		return "telephone-event"
	case ComfortNoise:
		return "CN"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// PayloadType maps one RTP payload type number (RFC 3550 section 5.1) of a leg's stream to what
// it carries, as the SDP offer/answer negotiated it (RFC 3264).
type PayloadType struct {
	// Type is the RTP payload type number, 0 to 127.
	Type uint8
	// Kind is what the packets carry. The zero value is Audio.
	Kind Kind
	// Codec is the audio codec, for Kind Audio.
	Codec codec.Codec
	// ClockRate is the RTP clock rate in Hz (the rate in the SDP rtpmap). Zero means the codec's
	// RTP clock (codec.Codec.ClockRate) for Audio, and 8000 for TelephoneEvent and ComfortNoise.
	ClockRate int
}

// Clock returns the payload type's RTP clock rate in Hz: ClockRate, or its default.
func (t PayloadType) Clock() int {
	switch {
	case t.ClockRate != 0:
		return t.ClockRate
	case t.Kind == Audio:
		return t.Codec.ClockRate()
	}
	return 8000
}

// Event is one RFC 4733 telephone-event or RFC 3389 comfort-noise packet, handed to
// Config.OnEvent as it arrives.
type Event struct {
	// Kind is TelephoneEvent or ComfortNoise.
	Kind Kind
	// PayloadType, SequenceNumber, Timestamp and Marker are the packet's RTP header fields.
	PayloadType    uint8
	SequenceNumber uint16
	Timestamp      uint32
	Marker         bool
	// ClockRate is the payload type's RTP clock rate in Hz.
	ClockRate int
	// Payload is the RTP payload. It is only valid during the call to OnEvent.
	Payload []byte
}

// Defaults of the zero-valued Config settings.
const (
	// DefaultMaxDelay is the longest the buffer delays audio: NetEq's and most phones' bound on
	// what is worth waiting for in a conversation.
	DefaultMaxDelay = 200 * time.Millisecond
	// DefaultStartDelay is the target delay before any jitter has been measured: half of NetEq's
	// 80 ms, since a bridge leg is usually on a managed network, and the estimate replaces it within
	// about a second.
	DefaultStartDelay = 40 * time.Millisecond
	// DefaultCapacity is the number of packet slots: 640 ms of 20 ms packets or 320 ms of 10 ms
	// ones, more than DefaultMaxDelay plus a burst.
	DefaultCapacity = 32
)

// Config sets up a Buffer. The zero value of every field is a documented default, so Config{} is
// complete for a stream of PCMU, PCMA, G.722, Opus (payload type 111), telephone-event (101)
// and comfort noise (13).
type Config struct {
	// MinDelay is the least target delay. Zero means 0: play a packet on the first tick after it
	// arrived when the network does not jitter.
	MinDelay time.Duration
	// MaxDelay is the most target delay, and the delay above which the buffer drops audio without
	// waiting for silence. Zero means DefaultMaxDelay (200 ms).
	MaxDelay time.Duration
	// MaxTarget bounds the target delay below MaxDelay, for a stream whose delay matters more
	// than an odd late packet (a cascade leg between confd nodes on one network, which every
	// voice crossing it waits for): a packet later than the target is concealed, and the frame
	// this adds dropped again, rather than the whole stream waiting for its slowest packets.
	// Zero means MaxDelay.
	MaxTarget time.Duration
	// StartDelay is the target delay until arrivals have been measured. Zero means
	// DefaultStartDelay (40 ms); it is clamped to [MinDelay, MaxDelay].
	StartDelay time.Duration
	// Capacity is the number of packet slots, allocated once: a packet whose sequence number is
	// Capacity or more ahead of the next one to play is not stored. Zero means DefaultCapacity (32).
	Capacity int
	// MaxPayloadSize is the largest payload a slot holds. Zero means codec.MaxPayloadSize.
	MaxPayloadSize int
	// PayloadTypes lists the stream's payload types, as negotiated. Nil means the static and
	// common ones: 0 PCMU, 8 PCMA, 9 G722, 111 Opus, 101 telephone-event at 8000 Hz, 13 CN. Only
	// payload types of codecs that NewDecoder can decode may be Audio.
	PayloadTypes []PayloadType
	// OnEvent receives every telephone-event and comfort-noise packet that is not a duplicate,
	// synchronously from Push and outside the buffer's lock, in arrival order (RFC 4733 events are
	// self-describing and retransmitted, so the consumer orders them by Timestamp and the event's
	// end bit). Nil means such packets are only counted.
	OnEvent func(e Event, now time.Time)
	// NewDecoder makes the decoder of one audio payload type, once, in New. Nil means
	// codec.NewDecoder.
	NewDecoder func(c codec.Codec) (codec.Decoder, error)
}

// defaultPayloadTypes is the table used when Config.PayloadTypes is nil.
var defaultPayloadTypes = []PayloadType{
	{Type: 0, Codec: codec.PCMU},
	{Type: 8, Codec: codec.PCMA},
	{Type: 9, Codec: codec.G722},
	{Type: 111, Codec: codec.Opus},
	{Type: 101, Kind: TelephoneEvent},
	{Type: 13, Kind: ComfortNoise},
}

// normalized returns c with its defaults filled in, or an error wrapping ErrBadConfig.
func (c Config) normalized() (Config, error) {
	c.MaxDelay = cmp.Or(c.MaxDelay, DefaultMaxDelay)
	c.StartDelay = cmp.Or(c.StartDelay, DefaultStartDelay)
	c.Capacity = cmp.Or(c.Capacity, DefaultCapacity)
	c.MaxPayloadSize = cmp.Or(c.MaxPayloadSize, codec.MaxPayloadSize)
	if c.PayloadTypes == nil {
		c.PayloadTypes = defaultPayloadTypes
	}
	if c.NewDecoder == nil {
		c.NewDecoder = codec.NewDecoder
	}
	switch {
	case c.MinDelay < 0 || c.MaxDelay < 0 || c.MinDelay > c.MaxDelay:
		return c, fmt.Errorf("%w: delays min %v max %v", ErrBadConfig, c.MinDelay, c.MaxDelay)
	case c.MaxDelay > 10*time.Second:
		return c, fmt.Errorf("%w: max delay %v above 10s", ErrBadConfig, c.MaxDelay)
	case c.Capacity < 4 || c.Capacity > 4096:
		return c, fmt.Errorf("%w: capacity %d outside 4-4096", ErrBadConfig, c.Capacity)
	case c.MaxPayloadSize < 1 || c.MaxPayloadSize > 65536:
		return c, fmt.Errorf("%w: max payload size %d outside 1-65536", ErrBadConfig, c.MaxPayloadSize)
	}
	c.MaxTarget = cmp.Or(c.MaxTarget, c.MaxDelay)
	if c.MaxTarget < c.MinDelay || c.MaxTarget > c.MaxDelay {
		return c, fmt.Errorf("%w: max target %v outside min delay %v to max delay %v", ErrBadConfig, c.MaxTarget, c.MinDelay, c.MaxDelay)
	}
	c.StartDelay = min(max(c.StartDelay, c.MinDelay), c.MaxTarget)
	return c, nil
}
