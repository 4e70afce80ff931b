package bridge

import (
	"encoding/binary"
	"math/rand/v2"
	"time"

	"github.com/pion/rtcp"
)

// RTCPLeg is a Leg that sends the RTCP reports the room writes for it, each one compound packet
// (RFC 3550 section 6.1): a SIP leg to its RTCP port (or the RTP port with rtcp-mux), a WebRTC
// leg through SRTCP. The room's goroutine calls SendRTCP when the participant's report is due;
// pkt belongs to the room and is valid during the call only (the leg may change it: a WebRTC
// leg puts its own SSRC in place of the bridge's), and SendRTCP must not block.
//
// Bytes rather than pion's packets: pion's WriteRTCP marshals the packets it is given (an SR and
// an SDES cost it about seven allocations), whereas the bytes, as an rtcp.RawPacket, pass
// through it with two.
type RTCPLeg interface {
	Leg
	SendRTCP(pkt []byte)
}

// DefaultRTCPInterval is the mean interval between a participant's reports when
// Config.RTCPInterval is zero: RFC 3550 section 6.2's recommended minimum, which an audio stream
// of a few dozen kbit/s never goes below (its 5 % RTCP share is far more than one report per
// participant every 5 s needs), and what libwebrtc sends for audio.
const DefaultRTCPInterval = 5 * time.Second

// rtcpSession is one participant's RTCP session (RFC 3550 section 6), owned by the room's
// goroutine: when its next report is due, and the report, built in place so that sending it
// allocates nothing.
type rtcpSession struct {
	due    time.Time // the next report; zero until the room first sees the participant
	report rtcpReport
	buf    [rtcpMaxSize]byte
}

// rtcpMaxSize bounds a report: an SR with one report block (52 bytes) and an SDES chunk whose
// CNAME is at most 255 bytes (264).
const rtcpMaxSize = 52 + 4 + 4 + 2 + 255 + 4

// rtcpReport holds a compound report (RFC 3550 section 6.1: SR or RR, then SDES with a CNAME)
// in structures that are reused from one report to the next.
type rtcpReport struct {
	sr    rtcp.SenderReport
	rr    rtcp.ReceiverReport
	sdes  rtcp.SourceDescription
	block [1]rtcp.ReceptionReport
	chunk [1]rtcp.SourceDescriptionChunk
	item  [1]rtcp.SourceDescriptionItem
	pkts  [2]rtcp.Packet
}

// fill writes the report of sender s and receiver r (nil when the leg receives nothing) as of
// now: a sender report when s has sent media, else a receiver report, with the reception report
// of what r received since the last report, followed by an SDES CNAME. clockRate converts now
// into the sender's RTP timeline. The packets returned point into rep.
func (rep *rtcpReport) fill(s *RTPSender, r *RTPReceiver, cname string, clockRate int, now time.Time) []rtcp.Packet {
	reports := rep.block[:0]
	if r != nil {
		if rr, ok := r.Report(now); ok {
			rep.block[0] = rr
			reports = rep.block[:1]
		}
	}
	st := s.Stats()
	if st.Packets > 0 {
		// The RTP timestamp that corresponds to now, extrapolated from the last packet sent.
		rtpNow := st.LastTimestamp + uint32(now.Sub(st.LastSent)*time.Duration(clockRate)/time.Second)
		rep.sr = rtcp.SenderReport{
			SSRC:        st.SSRC,
			NTPTime:     ntpTime(now),
			RTPTime:     rtpNow,
			PacketCount: uint32(st.Packets),
			OctetCount:  uint32(st.Octets),
			Reports:     reports,
		}
		rep.pkts[0] = &rep.sr
	} else {
		rep.rr = rtcp.ReceiverReport{SSRC: st.SSRC, Reports: reports}
		rep.pkts[0] = &rep.rr
	}
	rep.item[0] = rtcp.SourceDescriptionItem{Type: rtcp.SDESCNAME, Text: cname}
	rep.chunk[0] = rtcp.SourceDescriptionChunk{Source: st.SSRC, Items: rep.item[:]}
	rep.sdes = rtcp.SourceDescription{Chunks: rep.chunk[:]}
	rep.pkts[1] = &rep.sdes
	return rep.pkts[:]
}

// marshal writes the report fill last wrote into buf, which must hold rtcpMaxSize bytes, as the
// compound packet rtcp.Marshal would write, without allocating, and returns it.
func (rep *rtcpReport) marshal(buf []byte) []byte {
	be := binary.BigEndian
	var reports []rtcp.ReceptionReport
	n := 0
	switch first := rep.pkts[0].(type) {
	case *rtcp.SenderReport:
		reports = first.Reports
		putRTCPHeader(buf, rtcp.TypeSenderReport, len(reports), 28+24*len(reports))
		be.PutUint32(buf[4:], first.SSRC)
		be.PutUint64(buf[8:], first.NTPTime)
		be.PutUint32(buf[16:], first.RTPTime)
		be.PutUint32(buf[20:], first.PacketCount)
		be.PutUint32(buf[24:], first.OctetCount)
		n = 28
	case *rtcp.ReceiverReport:
		reports = first.Reports
		putRTCPHeader(buf, rtcp.TypeReceiverReport, len(reports), 8+24*len(reports))
		be.PutUint32(buf[4:], first.SSRC)
		n = 8
	}
	for _, b := range reports { // RFC 3550 section 6.4.1
		be.PutUint32(buf[n:], b.SSRC)
		be.PutUint32(buf[n+4:], b.TotalLost&0xFFFFFF)
		buf[n+4] = b.FractionLost
		be.PutUint32(buf[n+8:], b.LastSequenceNumber)
		be.PutUint32(buf[n+12:], b.Jitter)
		be.PutUint32(buf[n+16:], b.LastSenderReport)
		be.PutUint32(buf[n+20:], b.Delay)
		n += 24
	}
	// SDES (section 6.5): one chunk, the CNAME item, then at least one null octet up to the
	// next 32-bit boundary.
	chunk := &rep.chunk[0]
	text := chunk.Items[0].Text
	chunkLen := (4 + 2 + len(text) + 1 + 3) &^ 3
	start := n
	putRTCPHeader(buf[n:], rtcp.TypeSourceDescription, 1, 4+chunkLen)
	be.PutUint32(buf[n+4:], chunk.Source)
	buf[n+8], buf[n+9] = byte(rtcp.SDESCNAME), byte(len(text))
	copy(buf[n+10:], text)
	n = start + 4 + chunkLen
	clear(buf[start+10+len(text) : n])
	return buf[:n]
}

// putRTCPHeader writes an RTCP header (RFC 3550 section 6.4.1): version 2, no padding, count
// (report blocks or chunks), the packet type, and the length of the size-byte packet in 32-bit
// words minus one.
func putRTCPHeader(buf []byte, pt rtcp.PacketType, count, size int) {
	buf[0], buf[1] = 0x80|byte(count), byte(pt)
	binary.BigEndian.PutUint16(buf[2:], uint16(size/4-1))
}

// rtcpDelay returns how long until a participant's next report: the mean interval (half of it
// for the first report, as section 6.2 allows a new participant) times a random factor in
// [0.5, 1.5) (section 6.3.1), so that a room's participants, joined at once or not, spread
// their reports over ticks instead of sending them in step. Timer reconsideration (section
// 6.3.3) is not done: a room's membership is known to the bridge, not learned from RTCP, so
// neither is its compensation factor applied.
func (r *Room) rtcpDelay(first bool) time.Duration {
	mean := r.b.cfg.RTCPInterval
	if mean <= 0 {
		mean = DefaultRTCPInterval
	}
	if first {
		mean /= 2
	}
	return mean/2 + time.Duration(rand.Int64N(int64(mean)))
}

// sendReports sends every participant whose report is due its SR or RR, on the room's goroutine
// after the tick's media. A tick sends at most one report per 25 participants (plus one): the
// randomised intervals spread a room's reports at about one per 250 participants per tick, and
// the cap keeps a burst (a room joined all at once, a run of skipped ticks) from piling them into
// one tick; a report over the cap goes out a tick later. A report is dated now, the tick's due
// time, as its packets are (RTPSender): its NTP and RTP times agree with each other and with the
// media, and a tick runs less than a frame late (the clock skips later ones), so the peer's
// round-trip estimate from LSR and DLSR is off by no more than that.
func (r *Room) sendReports(now time.Time) {
	budget := len(r.parts)/25 + 1
	for _, p := range r.parts {
		if p.rtcpLeg == nil || p.left.Load() {
			continue
		}
		s := &p.rtcp
		if s.due.IsZero() {
			s.due = now.Add(r.rtcpDelay(true))
			continue
		}
		if now.Before(s.due) || budget == 0 {
			continue
		}
		budget--
		s.due = now.Add(r.rtcpDelay(false))
		s.report.fill(p.sender, &p.recv, p.cname, int(p.outClock.Load()), now)
		p.rtcpLeg.SendRTCP(s.report.marshal(s.buf[:]))
	}
}
