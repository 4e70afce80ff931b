package dtmf

import "encoding/binary"

// EventSize is the size of an RFC 4733 telephone-event payload (section 2.3).
const EventSize = 4

// Event is one RFC 4733 telephone-event payload (section 2.3):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     event     |E|R| volume    |          duration             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Event struct {
	// Code is the event code: 0-15 are DTMF keys (section 3.2).
	Code uint8
	// End is the E bit: this packet reports the end of the event (section 2.3.2).
	End bool
	// Volume is the power level in -dBm0, 0 to 63 (section 2.3.4).
	Volume uint8
	// Duration is the event's duration so far, in RTP clock ticks from the event's timestamp
	// (section 2.3.5).
	Duration uint16
}

// Unmarshal reads an event payload into e. Bytes after the first four (redundant events are
// carried by RFC 2198, not here) are ignored; the R bit is ignored as section 2.3.3 says.
func (e *Event) Unmarshal(payload []byte) error {
	if len(payload) < EventSize {
		return ErrShortPayload
	}
	e.Code = payload[0]
	e.End = payload[1]&0x80 != 0
	e.Volume = payload[1] & 0x3f
	e.Duration = binary.BigEndian.Uint16(payload[2:4])
	return nil
}

// MarshalSize returns EventSize.
func (e Event) MarshalSize() int { return EventSize }

// MarshalTo writes the payload into buf and returns EventSize, or ErrShortBuffer.
func (e Event) MarshalTo(buf []byte) (int, error) {
	if len(buf) < EventSize {
		return 0, ErrShortBuffer
	}
	buf[0] = e.Code
	buf[1] = e.Volume & 0x3f
	if e.End {
		buf[1] |= 0x80
	}
	binary.BigEndian.PutUint16(buf[2:4], e.Duration)
	return EventSize, nil
}

// Marshal returns the payload in a new slice.
func (e Event) Marshal() []byte {
	b := make([]byte, EventSize)
	_, _ = e.MarshalTo(b)
	return b
}
