package dtmf

import (
	"cmp"
	"fmt"
	"time"
)

// SenderConfig configures a Sender. The zero value is usable.
type SenderConfig struct {
	// ClockRate is the telephone-event RTP clock in Hz (8000, 16000 or 48000). Zero means 8000.
	ClockRate int
	// Interval is the time between packets of one event. Zero means 20 ms, one mixer tick, so
	// that a leg sends one event packet where it would have sent one audio packet.
	Interval time.Duration
	// Volume is the power level written in each packet, in -dBm0 (0-63). Zero means 10
	// (-10 dBm0, a typical keypad level).
	Volume uint8
	// EndRepeats is how many times the end packet is sent. Zero means 3, as RFC 4733 section
	// 2.5.1.4 recommends.
	EndRepeats int
}

func (c SenderConfig) normalized() (SenderConfig, error) {
	var err error
	if c.ClockRate, err = eventClockRate(c.ClockRate); err != nil {
		return c, err
	}
	c.Interval = cmp.Or(c.Interval, 20*time.Millisecond)
	if c.Interval < time.Millisecond || c.Interval > time.Second {
		return c, fmt.Errorf("%w: interval %v", ErrDuration, c.Interval)
	}
	c.Volume = cmp.Or(c.Volume, 10)
	if c.Volume > 63 {
		c.Volume = 63
	}
	if c.EndRepeats <= 0 {
		c.EndRepeats = 3
	}
	return c, nil
}

// Packet is one telephone-event RTP packet to send: the RTP header fields that differ from
// audio, and the payload. The caller adds the SSRC, a sequence number one above the previous
// packet's, and the negotiated payload type.
type Packet struct {
	// Timestamp is the RTP timestamp: the event's start, the same in every packet of the event
	// (RFC 4733 section 2.5.1.2).
	Timestamp uint32
	// Marker is set on the first packet of the event (section 2.5.1.1).
	Marker bool
	// Payload is the 4-byte event payload.
	Payload [EventSize]byte
	// End is true on the end packets.
	End bool
}

// Sender produces the RFC 4733 packets of one digit at a time, one per Next call, for a leg
// that sends one packet per tick. It allocates nothing.
type Sender struct {
	cfg      SenderConfig
	interval uint32 // ticks between packets
	code     uint8
	start    uint32
	total    uint32 // the event's duration in ticks
	elapsed  uint32 // duration written in the last packet
	ends     int    // end packets still to send
	first    bool
	active   bool
}

// NewSender returns a Sender, or an error for a bad config.
func NewSender(cfg SenderConfig) (*Sender, error) {
	c, err := cfg.normalized()
	if err != nil {
		return nil, err
	}
	return &Sender{cfg: c, interval: uint32(c.Interval * time.Duration(c.ClockRate) / time.Second)}, nil
}

// Ticks converts a duration to ticks of the sender's clock.
func (s *Sender) Ticks(d time.Duration) uint32 {
	return uint32(d * time.Duration(s.cfg.ClockRate) / time.Second)
}

// Start begins sending digit for duration, as an event that starts at RTP timestamp. The
// duration must be positive and fit 16 bits of ticks (8.19 s at 8000 Hz, 1.36 s at 48000 Hz).
// After the event, the stream's next audio timestamp should be timestamp plus the event's
// duration in ticks.
func (s *Sender) Start(digit Digit, duration time.Duration, timestamp uint32) error {
	if s.active {
		return ErrBusy
	}
	code, err := digit.Event()
	if err != nil {
		return err
	}
	total := s.Ticks(duration)
	if duration <= 0 || total == 0 || total > 0xffff {
		return fmt.Errorf("%w: %v at %d Hz", ErrDuration, duration, s.cfg.ClockRate)
	}
	s.code, s.start, s.total, s.elapsed, s.ends, s.first, s.active = code, timestamp, total, 0, s.cfg.EndRepeats, true, true
	return nil
}

// Busy reports whether packets of the current digit remain to be sent.
func (s *Sender) Busy() bool { return s.active }

// Next returns the next packet of the current digit, and false when there is none: each call
// advances the event by one Interval until its duration is reached, then returns the end
// packet EndRepeats times.
func (s *Sender) Next() (Packet, bool) {
	if !s.active {
		return Packet{}, false
	}
	s.elapsed = min(s.elapsed+s.interval, s.total)
	end := s.elapsed == s.total
	p := Packet{Timestamp: s.start, Marker: s.first, End: end}
	s.first = false
	e := Event{Code: s.code, End: end, Volume: s.cfg.Volume, Duration: uint16(s.elapsed)}
	_, _ = e.MarshalTo(p.Payload[:])
	if end {
		s.ends--
		if s.ends == 0 {
			s.active = false
		}
	}
	return p, true
}

// AppendPackets appends every packet of one digit to dst: for tests and for legs that queue a
// whole digit at once.
func AppendPackets(dst []Packet, digit Digit, duration time.Duration, timestamp uint32, cfg SenderConfig) ([]Packet, error) {
	s, err := NewSender(cfg)
	if err != nil {
		return dst, err
	}
	if err := s.Start(digit, duration, timestamp); err != nil {
		return dst, err
	}
	for p, ok := s.Next(); ok; p, ok = s.Next() {
		dst = append(dst, p)
	}
	return dst, nil
}
