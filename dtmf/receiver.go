package dtmf

import (
	"cmp"
	"fmt"
	"sync/atomic"
	"time"
)

// ReceiverConfig configures a Receiver. The zero value is usable.
type ReceiverConfig struct {
	// ClockRate is the telephone-event RTP clock in Hz as negotiated in SDP
	// (sdpneg.Result.TelephoneEvent.ClockRate: 8000, 16000 or 48000), the clock in which event
	// durations count. Zero means 8000.
	ClockRate int
	// TimestampRate is the clock of the packets' RTP timestamps when it is not ClockRate: a
	// sender whose telephone-event clock differs from its audio's (telephone-event/8000 beside
	// Opus at 48000, as libwebrtc sends it) writes the events' timestamps on the audio's
	// timeline, while their durations count ClockRate ticks. Zero means ClockRate.
	TimestampRate int
	// EndTimeout is how long after an event's last packet Expire reports it when none of its
	// end packets arrived. Zero means DefaultEndTimeout.
	EndTimeout time.Duration
}

// DefaultEndTimeout is ReceiverConfig.EndTimeout's default: senders refresh an event every 50 ms
// or so (RFC 4733 section 2.5.1.2), so half a second without a packet means its end was lost.
const DefaultEndTimeout = 500 * time.Millisecond

func (c ReceiverConfig) normalized() (ReceiverConfig, error) {
	var err error
	if c.ClockRate, err = eventClockRate(c.ClockRate); err != nil {
		return c, err
	}
	c.TimestampRate = cmp.Or(c.TimestampRate, c.ClockRate)
	if c.TimestampRate < 0 || c.TimestampRate > 384000 {
		return c, fmt.Errorf("%w: timestamps at %d Hz", ErrClockRate, c.TimestampRate)
	}
	if c.EndTimeout <= 0 {
		c.EndTimeout = DefaultEndTimeout
	}
	return c, nil
}

// Detection is one digit a Receiver reports.
type Detection struct {
	// Digit is the key.
	Digit Digit
	// Timestamp is the RTP timestamp of the event (of its first segment).
	Timestamp uint32
	// Ticks is the event's duration in RTP clock ticks, summed over segments.
	Ticks uint32
	// Duration is Ticks as a time.Duration.
	Duration time.Duration
	// Volume is the power level in -dBm0 (RFC 4733 section 2.3.4).
	Volume uint8
	// Ended is true when an end packet arrived; false when the digit was reported because the
	// next event began, Expire ran out of patience, or Flush was called.
	Ended bool
}

// ReceiverStats is a snapshot of a Receiver's counters.
type ReceiverStats struct {
	// Packets is the number of packets pushed.
	Packets uint64
	// Digits is the number of digits reported.
	Digits uint64
	// LostEnds is the number of digits reported without an end packet.
	LostEnds uint64
	// Duplicates counts packets of events already reported (the repeated end packets).
	Duplicates uint64
	// Stale counts packets of events older than the current one (late or reordered).
	Stale uint64
	// Malformed counts payloads shorter than 4 bytes.
	Malformed uint64
	// Other counts packets of events that are not DTMF keys (codes above 15).
	Other uint64
}

// Receiver turns the RFC 4733 telephone-event packets of one RTP stream into digits, each
// reported once. It is not safe for concurrent use, except Stats, which may be called from any
// goroutine.
type Receiver struct {
	cfg      ReceiverConfig
	stale    uint32 // timestamp units behind the current event within which a packet is late, not new
	have     bool   // an event has been seen
	start    uint32 // first segment's timestamp
	segment  uint32 // current segment's timestamp
	ticks    uint32 // current segment's longest duration
	code     uint8
	volume   uint8
	reported bool // the current event was reported (or is not a digit)
	last     time.Time
	out      [2]Detection
	recent   [4]uint32 // timestamps of the last events reported, to drop their late packets
	nrecent  int

	packets, digits, lostEnds, duplicates, staleN, malformed, other atomic.Uint64
}

// NewReceiver returns a Receiver, or ErrClockRate.
func NewReceiver(cfg ReceiverConfig) (*Receiver, error) {
	c, err := cfg.normalized()
	if err != nil {
		return nil, err
	}
	// A packet up to 10 s behind the current event is a late one; further back, the sender
	// restarted its timestamps and the packet starts a new event.
	return &Receiver{cfg: c, stale: uint32(c.TimestampRate) * 10}, nil
}

// Push takes one telephone-event packet — its RTP timestamp, marker bit and payload — received
// at now, and returns the digits it completes (zero, one, or two when it also closes a previous
// digit whose end was lost). The returned slice is the Receiver's own storage, valid until the
// next call. A payload shorter than 4 bytes returns ErrShortPayload and changes nothing.
func (r *Receiver) Push(now time.Time, timestamp uint32, marker bool, payload []byte) ([]Detection, error) {
	r.packets.Add(1)
	var e Event
	if err := e.Unmarshal(payload); err != nil {
		r.malformed.Add(1)
		return nil, err
	}
	out := r.out[:0]
	_, isDigit := DigitForEvent(e.Code)
	if !isDigit {
		r.other.Add(1)
	}
	if r.have {
		switch diff := int32(timestamp - r.segment); {
		case diff == 0:
			r.last = now
			if r.reported {
				if isDigit {
					r.duplicates.Add(1)
				}
				return out, nil
			}
			r.ticks = max(r.ticks, uint32(e.Duration))
			if e.End {
				out = r.report(out, true)
			}
			return out, nil
		case diff < 0 && uint32(-diff) < r.stale:
			r.staleN.Add(1)
			return out, nil
		}
		if r.wasReported(timestamp) {
			r.duplicates.Add(1)
			return out, nil
		}
		if !r.reported {
			if isDigit && e.Code == r.code && !marker && r.ticks+uint32(r.cfg.ClockRate)/5 >= 0xffff &&
				r.toTicks(timestamp-r.segment) <= r.ticks+uint32(r.cfg.ClockRate)/5 {
				// The next segment of a long event (RFC 4733 section 2.5.1.3).
				r.segment, r.ticks, r.last = timestamp, uint32(e.Duration), now
				if e.End {
					out = r.report(out, true)
				}
				return out, nil
			}
			out = r.report(out, false)
		}
	}
	r.have, r.start, r.segment, r.ticks, r.code, r.volume, r.last = true, timestamp, timestamp, uint32(e.Duration), e.Code, e.Volume, now
	r.reported = !isDigit
	if e.End && isDigit {
		out = r.report(out, true)
	}
	return out, nil
}

// report appends the current event to out and marks it reported.
func (r *Receiver) report(out []Detection, ended bool) []Detection {
	d, _ := DigitForEvent(r.code)
	ticks := r.toTicks(r.segment-r.start) + r.ticks
	out = append(out, Detection{
		Digit: d, Timestamp: r.start, Ticks: ticks, Volume: r.volume, Ended: ended,
		Duration: time.Duration(uint64(ticks) * uint64(time.Second) / uint64(r.cfg.ClockRate)),
	})
	r.reported = true
	r.recent[r.nrecent%len(r.recent)] = r.segment
	r.nrecent++
	r.digits.Add(1)
	if !ended {
		r.lostEnds.Add(1)
	}
	return out
}

// toTicks converts a difference of RTP timestamps to event-duration ticks (TimestampRate).
func (r *Receiver) toTicks(ts uint32) uint32 {
	return uint32(uint64(ts) * uint64(r.cfg.ClockRate) / uint64(r.cfg.TimestampRate))
}

// wasReported reports whether ts is one of the last events reported: a packet that comes back
// from further than the stale window (a sender that jumped its timestamps, or a duplicate
// delivered very late) must not report its digit again.
func (r *Receiver) wasReported(ts uint32) bool {
	for i := 0; i < min(r.nrecent, len(r.recent)); i++ {
		if r.recent[i] == ts {
			return true
		}
	}
	return false
}

// Expire reports the open digit if no packet of it arrived for EndTimeout before now: all its
// end packets were lost and no other event followed. Call it on a clock, not only when a packet
// arrives: a phone with silence suppression may send nothing after the digit (a room calls it
// every tick, the IVR twice per DefaultEndTimeout).
func (r *Receiver) Expire(now time.Time) (Detection, bool) {
	if !r.have || r.reported || now.Sub(r.last) < r.cfg.EndTimeout {
		return Detection{}, false
	}
	return r.report(r.out[:0], false)[0], true
}

// Pending reports whether a digit is open and not yet reported: whether Expire may report one.
func (r *Receiver) Pending() bool { return r.have && !r.reported }

// Flush reports the open digit, if any, whatever the time: for hang-up or a stream restart.
func (r *Receiver) Flush() (Detection, bool) {
	if !r.have || r.reported {
		return Detection{}, false
	}
	return r.report(r.out[:0], false)[0], true
}

// Reset forgets the current event, as for a new SSRC; counters are kept.
func (r *Receiver) Reset() {
	r.have, r.reported, r.nrecent = false, false, 0
}

// Stats returns a snapshot of the counters.
func (r *Receiver) Stats() ReceiverStats {
	return ReceiverStats{
		Packets: r.packets.Load(), Digits: r.digits.Load(), LostEnds: r.lostEnds.Load(),
		Duplicates: r.duplicates.Load(), Stale: r.staleN.Load(), Malformed: r.malformed.Load(),
		Other: r.other.Load(),
	}
}
