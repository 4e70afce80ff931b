package bridge

import (
	"errors"
	"sync"
	"time"

	"github.com/pion/rtcp"

	"confd/jitter"
)

// RTPReceiver tracks one incoming RTP stream the way RFC 3550 appendix A asks, so that confd's
// receiver reports tell the peer how much of its audio is lost (A.3) and how much its arrival
// jitters (A.8). Observe is called per packet by whoever pushes the leg's packets (allocation-free),
// Report by the room's goroutine when the participant's report is due, OnSenderReport by
// whoever pushes the peer's RTCP. A small mutex serialises the two; it is
// never contended for long.
//
// Which packets make the stream is decided as the jitter buffer decides it, by jitter.Probation:
// a new SSRC or new sequence numbering restarts the statistics only once two packets of it come
// in a row, so that one stray packet never sends the cumulative loss back to 0.
type RTPReceiver struct {
	mu            sync.Mutex
	probation     jitter.Probation
	ssrc          uint32
	started       bool
	baseSeq       uint32
	maxSeq        uint16
	cycles        uint32
	received      uint32
	expectedPrior uint32
	receivedPrior uint32
	jitter        float64   // in RTP clock units
	lastTransit   uint32    // arrival minus timestamp, in clockRate units, modulo 2^32 as RFC 3550 A.8 has it
	transitClock  int       // the clock of lastTransit; 0 before the first timed packet
	lastSR        uint32    // middle 32 bits of the NTP time of the last SR received
	lastSRAt      time.Time // when it arrived
}

// The sequence-number tolerances of RFC 3550 appendix A.1: a packet up to maxDropout ahead of
// the highest is in the stream (the ones between were lost), one up to maxMisorder behind it is
// late or a duplicate; anything further is a jump, believed on probation (jitter.Probation).
const (
	maxDropout  = 3000
	maxMisorder = 100
)

// Observe records a packet's sequence number and timestamp, its clock rate and its arrival time.
// clockRate is that of an audio payload type, or 0 for any other (telephone-event, comfort
// noise): those packets count in the sequence numbers but not in the interarrival jitter, which
// measures one clock (RFC 3550 section 6.4.1; an event repeats its start timestamp in every
// packet, RFC 4733 section 2.5.1, and its clock may differ from the audio's). The jitter buffer's
// delay estimator, too, times audio only. A new SSRC restarts the statistics (the peer restarted
// its stream), as does new numbering, each once two packets of it come in a row.
func (r *RTPReceiver) Observe(ssrc uint32, seq uint16, ts uint32, clockRate int, arrival time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	take, restart := r.probation.Source(ssrc)
	switch {
	case !take:
		return // another source's packet, on probation
	case restart || !r.started:
		// A new source: new statistics, jitter included (RFC 3550 A.1 keeps one record per
		// source). The first packet is the highest so far (init_seq): not seq-1, which for a
		// stream starting at 0 is 65535 and would count a wrap that never was.
		r.ssrc, r.started, r.jitter, r.transitClock = ssrc, true, 0, 0
		r.restartSeq(seq)
	default:
		switch delta := seq - r.maxSeq; {
		case delta < maxDropout:
			if seq < r.maxSeq {
				r.cycles += 1 << 16
			}
			r.maxSeq = seq
		case delta <= 0xFFFF-maxMisorder:
			// Too far to be loss or reordering: the sender restarted its numbering, or the number
			// is garbage. Believed once the next packet follows it.
			if !r.probation.Jump(seq) {
				return
			}
			r.restartSeq(seq)
			r.transitClock = 0 // its timestamps are new too
		default:
			// A late or duplicated packet: counted as received, the highest number is unchanged.
		}
	}
	r.received++
	if clockRate <= 0 {
		return
	}
	// RFC 3550 appendix A.8, in modulo-2^32 arithmetic so that the timestamp's wrap is no jump.
	transit := uint32(arrival.UnixNano()*int64(clockRate)/int64(time.Second)) - ts
	if r.transitClock == clockRate {
		d := int64(int32(transit - r.lastTransit))
		if d < 0 {
			d = -d
		}
		r.jitter += (float64(d) - r.jitter) / 16
	}
	// A change of codec changes the clock: the transit is measured afresh, not compared across.
	r.lastTransit, r.transitClock = transit, clockRate
}

// restartSeq starts counting sequence numbers at seq (RFC 3550 appendix A.1, init_seq).
func (r *RTPReceiver) restartSeq(seq uint16) {
	r.baseSeq, r.maxSeq, r.cycles = uint32(seq), seq, 0
	r.received, r.expectedPrior, r.receivedPrior = 0, 0, 0
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

// errCNAMETooLong: an SDES item holds at most 255 bytes (RFC 3550 section 6.5).
var errCNAMETooLong = errors.New("bridge: RTCP CNAME longer than 255 bytes")

// ntpTime converts t to the 64-bit NTP timestamp format of RFC 3550 section 4.
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800 // seconds from 1900 to 1970
	secs := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

// BuildRTCP returns a compound RTCP packet for one leg (RFC 3550 section 6.1): a sender report
// when the leg has sent media, else a receiver report, with the reception report of what it
// received, followed by an SDES CNAME of at most 255 bytes. clockRate converts now into the
// sender's RTP timeline. A room sends its participants' reports itself (RTCPLeg); this is the
// same report, allocated, for whoever needs one outside a room.
func BuildRTCP(s *RTPSender, r *RTPReceiver, cname string, clockRate int, now time.Time) ([]byte, error) {
	if len(cname) > 255 {
		return nil, errCNAMETooLong
	}
	rep := new(rtcpReport)
	rep.fill(s, r, cname, clockRate, now)
	return rep.marshal(make([]byte, rtcpMaxSize)), nil
}

// BuildRTCPPackets is BuildRTCP for a leg that writes RTCP as packets (pion's WriteRTCP): the
// same SR or RR and SDES, not marshalled.
func BuildRTCPPackets(s *RTPSender, r *RTPReceiver, cname string, clockRate int, now time.Time) []rtcp.Packet {
	return new(rtcpReport).fill(s, r, cname, clockRate, now)
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
