package bridge

import (
	"sync"
	"time"

	"github.com/pion/rtcp"
)

// RTPReceiver tracks one incoming RTP stream the way RFC 3550 appendix A asks, so that confd's
// receiver reports tell the peer how much of its audio is lost (A.3) and how much its arrival
// jitters (A.8). Observe is called per packet by the leg's reader (allocation-free); Report and
// the sender-report bookkeeping by the leg's RTCP loop. A small mutex serialises the two; it is
// never contended for long.
type RTPReceiver struct {
	mu            sync.Mutex
	ssrc          uint32
	started       bool
	baseSeq       uint32
	maxSeq        uint16
	cycles        uint32
	received      uint32
	expectedPrior uint32
	receivedPrior uint32
	jitter        float64 // in RTP clock units
	lastTransit   int64
	haveTransit   bool
	lastSR        uint32    // middle 32 bits of the NTP time of the last SR received
	lastSRAt      time.Time // when it arrived
}

// Observe records a packet's sequence number and timestamp, its clock rate and its arrival time.
// A new SSRC restarts the statistics (the peer restarted its stream).
func (r *RTPReceiver) Observe(ssrc uint32, seq uint16, ts uint32, clockRate int, arrival time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started || ssrc != r.ssrc {
		r.ssrc, r.started, r.baseSeq, r.maxSeq, r.cycles = ssrc, true, uint32(seq), seq-1, 0
		r.received, r.expectedPrior, r.receivedPrior, r.jitter, r.haveTransit = 0, 0, 0, 0, false
	}
	r.received++
	if delta := seq - r.maxSeq; delta < 0x8000 {
		if seq < r.maxSeq {
			r.cycles += 1 << 16
		}
		r.maxSeq = seq
	} else if delta > 0xFFFF-3000 {
		// A late or duplicated packet: counted as received, the highest number is unchanged.
	} else {
		// A jump of more than 3000 backwards or 32768 forwards: the sender restarted its numbering.
		r.baseSeq, r.maxSeq, r.cycles, r.received, r.expectedPrior, r.receivedPrior = uint32(seq), seq, 0, 1, 0, 0
	}
	if clockRate > 0 {
		arrivalTS := arrival.UnixNano() * int64(clockRate) / int64(time.Second)
		transit := arrivalTS - int64(ts)
		if r.haveTransit {
			d := transit - r.lastTransit
			if d < 0 {
				d = -d
			}
			r.jitter += (float64(d) - r.jitter) / 16
		}
		r.lastTransit, r.haveTransit = transit, true
	}
}

// OnSenderReport records the arrival of the peer's sender report, so that the next receiver report
// carries LSR and DLSR and the peer can measure the round-trip time (RFC 3550 section 6.4.1).
func (r *RTPReceiver) OnSenderReport(ntpTime uint64, arrival time.Time) {
	r.mu.Lock()
	r.lastSR = uint32(ntpTime >> 16)
	r.lastSRAt = arrival
	r.mu.Unlock()
}

// Report returns the reception report block for the interval since the previous call, and false
// before the first packet.
func (r *RTPReceiver) Report(now time.Time) (rtcp.ReceptionReport, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started {
		return rtcp.ReceptionReport{}, false
	}
	extMax := r.cycles + uint32(r.maxSeq)
	expected := extMax - r.baseSeq + 1
	lost := int64(expected) - int64(r.received)
	lost = min(max(lost, -0x800000), 0x7FFFFF) // a 24-bit signed field
	expInterval := expected - r.expectedPrior
	recvInterval := r.received - r.receivedPrior
	r.expectedPrior, r.receivedPrior = expected, r.received
	var fraction uint8
	if lostInterval := int64(expInterval) - int64(recvInterval); expInterval > 0 && lostInterval > 0 {
		fraction = uint8(min(lostInterval<<8/int64(expInterval), 255))
	}
	rr := rtcp.ReceptionReport{
		SSRC:               r.ssrc,
		FractionLost:       fraction,
		TotalLost:          uint32(lost) & 0xFFFFFF,
		LastSequenceNumber: extMax,
		Jitter:             uint32(r.jitter),
		LastSenderReport:   r.lastSR,
	}
	if !r.lastSRAt.IsZero() {
		rr.Delay = uint32(now.Sub(r.lastSRAt) * 65536 / time.Second)
	}
	return rr, true
}

// ntpTime converts t to the 64-bit NTP timestamp format of RFC 3550 section 4.
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800 // seconds from 1900 to 1970
	secs := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

// BuildRTCP returns a compound RTCP packet for one leg (RFC 3550 section 6.1): a sender report
// when the leg has sent media, else a receiver report, with the reception report of what it
// received, followed by an SDES CNAME. clockRate converts now into the sender's RTP timeline.
func BuildRTCP(s *RTPSender, r *RTPReceiver, cname string, clockRate int, now time.Time) ([]byte, error) {
	return rtcp.Marshal(BuildRTCPPackets(s, r, cname, clockRate, now))
}

// BuildRTCPPackets is BuildRTCP for a leg that writes RTCP as packets (pion's WriteRTCP): the
// same SR or RR and SDES, not marshalled.
func BuildRTCPPackets(s *RTPSender, r *RTPReceiver, cname string, clockRate int, now time.Time) []rtcp.Packet {
	var reports []rtcp.ReceptionReport
	if r != nil {
		if rr, ok := r.Report(now); ok {
			reports = append(reports, rr)
		}
	}
	st := s.Stats()
	var first rtcp.Packet
	if st.Packets > 0 {
		// The RTP timestamp that corresponds to now, extrapolated from the last packet sent.
		rtpNow := st.LastTimestamp + uint32(now.Sub(st.LastSent)*time.Duration(clockRate)/time.Second)
		first = &rtcp.SenderReport{
			SSRC:        st.SSRC,
			NTPTime:     ntpTime(now),
			RTPTime:     rtpNow,
			PacketCount: uint32(st.Packets),
			OctetCount:  uint32(st.Octets),
			Reports:     reports,
		}
	} else {
		first = &rtcp.ReceiverReport{SSRC: st.SSRC, Reports: reports}
	}
	sdes := &rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{
		Source: st.SSRC,
		Items:  []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: cname}},
	}}}
	return []rtcp.Packet{first, sdes}
}

// PeerReport is what a peer's RTCP says about confd's stream and its own.
type PeerReport struct {
	// HasLoss is true when a report block about confd's SSRC was found; FractionLost is then the
	// share of confd's packets the peer lost in its last interval, 0 to 1.
	HasLoss      bool
	FractionLost float64
	// HasSR is true when the packet held the peer's sender report, whose NTP time is SRNTPTime.
	HasSR     bool
	SRNTPTime uint64
	// Bye is true when the peer said BYE (RFC 3550 section 6.6).
	Bye bool
}

// ParseRTCP reads a compound RTCP packet from a peer, looking for the report block about
// ourSSRC. Malformed input returns an error and nothing else.
func ParseRTCP(buf []byte, ourSSRC uint32) (PeerReport, error) {
	pkts, err := rtcp.Unmarshal(buf)
	if err != nil {
		return PeerReport{}, err
	}
	return ReadRTCP(pkts, ourSSRC), nil
}

// ReadRTCP is ParseRTCP for packets already parsed (pion's ReadRTCP).
func ReadRTCP(pkts []rtcp.Packet, ourSSRC uint32) PeerReport {
	var rep PeerReport
	take := func(blocks []rtcp.ReceptionReport) {
		for _, b := range blocks {
			if b.SSRC == ourSSRC {
				rep.HasLoss, rep.FractionLost = true, float64(b.FractionLost)/256
			}
		}
	}
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			rep.HasSR, rep.SRNTPTime = true, p.NTPTime
			take(p.Reports)
		case *rtcp.ReceiverReport:
			take(p.Reports)
		case *rtcp.Goodbye:
			rep.Bye = true
		}
	}
	return rep
}

// ExpectedLossPercent quantises a measured loss fraction into the few expected-loss settings an
// Opus encoder is given (0, 10, 20, 40 percent), so that listeners with similar networks keep
// sharing one encoder while those that lose packets get in-band FEC (RFC 6716 section 2.1.7).
// There is no 5: libopus 1.3.1 at 32 kbit/s puts FEC in no packet at an expected loss of 5%
// (measured in jitter's tests), so any real loss asks for at least 10.
func ExpectedLossPercent(fraction float64) int {
	switch {
	case fraction < 0.01:
		return 0
	case fraction < 0.15:
		return 10
	case fraction < 0.3:
		return 20
	}
	return 40
}
