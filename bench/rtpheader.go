package bench

import (
	"encoding/binary"
	"errors"
	"time"
)

// headerWriter writes one outgoing leg's RTP header in front of a payload the leg may share with
// its whole output group (RFC 3550 section 5.1).
type headerWriter interface {
	Packet(buf, payload []byte, marker bool, samples int, now time.Time) (int, error)
}

// newHeaderWriter returns the RTP header writer of one leg.
//
// TODO: bridge.NewRTPSender(pt) once confd/bridge builds again; until then a 12-byte header
// written with encoding/binary, the same work.
func newHeaderWriter(pt uint8) headerWriter { return &rtpHeader{pt: pt} }

// rtpHeader writes the fixed 12-byte RTP header of RFC 3550 section 5.1 (no CSRC, no extension).
type rtpHeader struct {
	pt      uint8
	ssrc    uint32
	seq     uint16
	ts      uint32
	started bool
}

var errShortBuffer = errors.New("bench: packet buffer too short")

// Packet writes the header and payload into buf and advances the sequence number and timestamp;
// an empty payload (DTX) writes nothing and only advances the timestamp.
func (h *rtpHeader) Packet(buf, payload []byte, marker bool, samples int, _ time.Time) (int, error) {
	if len(payload) == 0 {
		h.ts += uint32(samples)
		return 0, nil
	}
	if len(buf) < 12+len(payload) {
		return 0, errShortBuffer
	}
	buf[0] = 2 << 6
	buf[1] = h.pt & 0x7f
	if marker || !h.started {
		buf[1] |= 0x80
	}
	h.started = true
	binary.BigEndian.PutUint16(buf[2:], h.seq)
	binary.BigEndian.PutUint32(buf[4:], h.ts)
	binary.BigEndian.PutUint32(buf[8:], h.ssrc)
	n := 12 + copy(buf[12:], payload)
	h.seq++
	h.ts += uint32(samples)
	return n, nil
}
