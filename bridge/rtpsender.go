package bridge

import (
	"crypto/rand"
	"encoding/binary"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"confd/codec"
)

// rtpHeaderSize is the size of the header RTPSender writes: RFC 3550 section 5.1's fixed
// header, with no CSRC list and no header extension.
const rtpHeaderSize = 12

// MaxPacketSize is the largest RTP packet confd sends: RTPSender's header and a payload of up to
// codec.MaxPayloadSize bytes. Every buffer an outgoing packet is written into (the room's, the
// IVR's) or copied into (a recording's) holds this many bytes, so that no payload an encoder may
// write is refused for want of room for its header.
const MaxPacketSize = rtpHeaderSize + codec.MaxPayloadSize

// RTPSender writes the RTP headers of one outgoing stream (RFC 3550 section 5.1): the leg's own
// SSRC, sequence numbers that advance by one per packet sent, and timestamps that advance with
// the audio clock whether or not a packet was sent (a DTX gap keeps its duration), so that a
// payload shared by a whole output group gets a header of its own on every leg.
//
// Packet is called by one goroutine at a time: the room's, or before the join the leg's that
// hands the stream over (ParticipantInfo.Stream, which the join's command orders after it);
// Stats may be read from any goroutine.
type RTPSender struct {
	header      rtp.Header
	out         rtp.Header // the header Next returned last
	started     bool
	packets     atomic.Uint64
	octets      atomic.Uint64
	lastTS      atomic.Uint32
	lastSendNTP atomic.Int64 // unix nanoseconds of the last packet, for RTCP sender reports
}

// NewRTPSender returns a sender for payload type pt whose SSRC, first sequence number and first
// timestamp are random, as RFC 3550 section 5.1 asks.
func NewRTPSender(pt uint8) *RTPSender {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return NewRTPSenderWithSSRC(pt, binary.BigEndian.Uint32(b[:]))
}

// NewRTPSenderWithSSRC returns a sender for a stream whose SSRC the leg has announced already
// (a WebRTC answer names the SSRC of pion's sender, RFC 8830 a=ssrc): the room's packets and
// reports carry it as they are, and the peer's reports about it need no translation. Its first
// sequence number and timestamp are random.
func NewRTPSenderWithSSRC(pt uint8, ssrc uint32) *RTPSender {
	var b [6]byte
	_, _ = rand.Read(b[:])
	s := &RTPSender{}
	s.header = rtp.Header{
		Version:        2,
		PayloadType:    pt,
		SSRC:           ssrc,
		SequenceNumber: binary.BigEndian.Uint16(b[0:2]),
		Timestamp:      binary.BigEndian.Uint32(b[2:6]),
	}
	return s
}

// nextDue returns the wall-clock time that the stream's next timestamp stands for: the send
// time of its last packet plus the audio that packet and any gap after it (Skip) covered, at
// clockRate RTP units a second; zero for a stream that has sent nothing. A room resumes a
// started stream from it (ParticipantInfo.Stream). It reads the header: call it where Packet
// may be called.
func (s *RTPSender) nextDue(clockRate int) time.Time {
	last := s.lastSendNTP.Load()
	if last == 0 || clockRate <= 0 {
		return time.Time{}
	}
	covered := time.Duration(s.header.Timestamp-s.lastTS.Load()) * time.Second / time.Duration(clockRate)
	return time.Unix(0, last).Add(covered)
}

// Resume advances the timestamp over the pause since the stream's last packet, so that the
// next packet, sent at now, carries the timestamp of now: RFC 3550 section 5.1's timestamp
// counts sampling instants whether a packet was sent for them or not, and a receiver's jitter
// buffer keeps its playout in step only if the stream's clock keeps time across the silences
// between an IVR's prompts. The sequence number does not move. clockRate is the codec's RTP
// clock.
func (s *RTPSender) Resume(now time.Time, clockRate int) {
	if next := s.nextDue(clockRate); !next.IsZero() && now.After(next) {
		s.Skip(int(int64(now.Sub(next)) * int64(clockRate) / int64(time.Second)))
	}
}

// SSRC returns the stream's synchronisation source identifier.
func (s *RTPSender) SSRC() uint32 { return s.header.SSRC }

// SetPayloadType changes the payload type of the following packets (a codec change mid-call).
func (s *RTPSender) SetPayloadType(pt uint8) { s.header.PayloadType = pt }

// Packet writes into buf one packet carrying payload, which covers samples ticks of the RTP
// clock, and returns its length. marker sets the RTP marker bit, which for audio marks the first
// packet of a talkspurt (RFC 3551 section 4.1). An empty payload writes nothing and only advances
// the timestamp (Opus DTX, RFC 7587 section 3.1.3). now is the send time, for sender reports.
// A buf of MaxPacketSize bytes holds any packet; a shorter one may return errShortBuffer.
func (s *RTPSender) Packet(buf, payload []byte, marker bool, samples int, now time.Time) (int, error) {
	h, ok := s.Next(payload, marker, samples, now)
	if !ok {
		return 0, nil
	}
	n, err := h.MarshalTo(buf)
	if err != nil {
		return 0, err
	}
	if len(buf)-n < len(payload) {
		return 0, errShortBuffer
	}
	return n + copy(buf[n:], payload), nil
}

// Next is Packet for a leg that takes the header as a struct (TypedLeg): it returns the header
// of the packet that carries payload, valid until the next call, and false for an empty payload
// (which only advances the timestamp). It allocates nothing.
func (s *RTPSender) Next(payload []byte, marker bool, samples int, now time.Time) (*rtp.Header, bool) {
	if len(payload) == 0 {
		s.header.Timestamp += uint32(samples)
		return nil, false
	}
	s.header.Marker = marker || !s.started
	s.started = true
	s.out = s.header
	s.lastTS.Store(s.header.Timestamp)
	s.lastSendNTP.Store(now.UnixNano())
	s.packets.Add(1)
	s.octets.Add(uint64(len(payload)))
	s.header.SequenceNumber++
	s.header.Timestamp += uint32(samples)
	return &s.out, true
}

// Skip advances the timestamp by samples without sending anything: the room skipped a tick
// (Clock), and the listener's RTP clock must keep pace with the wall clock, as over a DTX gap,
// rather than fall behind by a frame for every tick skipped. The sequence number does not move:
// nothing was lost.
func (s *RTPSender) Skip(samples int) { s.header.Timestamp += uint32(samples) }

// RTPSenderStats is a snapshot of what an RTPSender has sent, as an RTCP sender report needs it
// (RFC 3550 section 6.4.1).
type RTPSenderStats struct {
	SSRC          uint32
	Packets       uint64
	Octets        uint64
	LastTimestamp uint32
	LastSent      time.Time
}

// Stats returns the sender's counters.
func (s *RTPSender) Stats() RTPSenderStats {
	st := RTPSenderStats{
		SSRC:          s.header.SSRC,
		Packets:       s.packets.Load(),
		Octets:        s.octets.Load(),
		LastTimestamp: s.lastTS.Load(),
	}
	if ns := s.lastSendNTP.Load(); ns != 0 {
		st.LastSent = time.Unix(0, ns)
	}
	return st
}
