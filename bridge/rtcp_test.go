package bridge

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

func TestRTPReceiverReportsLossAndJitter(t *testing.T) {
	var r RTPReceiver
	start := time.Unix(5000, 0)
	seq := uint16(65500) // wraps during the test
	ts := uint32(1 << 31)
	lostCount := 0
	for i := 0; i < 200; i++ {
		if i%10 == 3 {
			lostCount++
		} else {
			// Arrival wobbles ±2 ms around the schedule.
			wobble := time.Duration((i%5)-2) * time.Millisecond
			r.Observe(42, seq, ts, 8000, start.Add(time.Duration(i)*20*time.Millisecond+wobble))
		}
		seq++
		ts += 160
	}
	rr, ok := r.Report(start.Add(4 * time.Second))
	if !ok {
		t.Fatal("no report")
	}
	if rr.TotalLost != uint32(lostCount) {
		t.Errorf("total lost %d, want %d", rr.TotalLost, lostCount)
	}
	if f := float64(rr.FractionLost) / 256; f < 0.09 || f > 0.11 {
		t.Errorf("fraction lost %.3f, want 0.10", f)
	}
	if rr.LastSequenceNumber>>16 != 1 {
		t.Errorf("extended sequence %#x: the wrap was not counted", rr.LastSequenceNumber)
	}
	if rr.Jitter == 0 || rr.Jitter > 40 { // ≤ 5 ms at 8 kHz
		t.Errorf("jitter %d clock units, want a few ms worth", rr.Jitter)
	}
	// The next interval with no new loss reports 0.
	r.Observe(42, seq, ts, 8000, start.Add(5*time.Second))
	if rr, _ := r.Report(start.Add(5 * time.Second)); rr.FractionLost != 0 {
		t.Errorf("fraction lost %d in a clean interval", rr.FractionLost)
	}
}

// TestRTPReceiverStreamStartingAtZero: a stream whose first sequence number is 0 (baresip's,
// the test phones') has lost nothing and not wrapped (the first packet once counted a wrap:
// 65536 lost).
func TestRTPReceiverStreamStartingAtZero(t *testing.T) {
	var r RTPReceiver
	now := time.Unix(5000, 0)
	for seq := range uint16(50) {
		r.Observe(7, seq, uint32(seq)*160, 8000, now.Add(time.Duration(seq)*20*time.Millisecond))
	}
	rr, _ := r.Report(now.Add(time.Second))
	if rr.TotalLost != 0 || rr.FractionLost != 0 || rr.LastSequenceNumber != 49 {
		t.Errorf("report %+v, want nothing lost and highest sequence number 49", rr)
	}
}

func TestBuildAndParseRTCPRoundTrip(t *testing.T) {
	ours := NewRTPSender(0)
	buf := make([]byte, 1500)
	now := time.Now()
	_, _ = ours.Packet(buf, make([]byte, 160), false, 160, now)
	peer := NewRTPSender(0)
	var peerRecv RTPReceiver
	for i := 0; i < 10; i++ {
		if i != 4 && i != 5 {
			peerRecv.Observe(ours.SSRC(), uint16(100+i), uint32(i*160), 8000, now)
		}
	}
	pkt, err := BuildRTCP(peer, &peerRecv, "peer@test", 8000, now)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ParseRTCP(pkt, ours.SSRC())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.HasLoss || rep.FractionLost < 0.19 || rep.FractionLost > 0.21 {
		t.Errorf("parsed %+v, want 20%% loss", rep)
	}
	if ExpectedLossPercent(rep.FractionLost) != 20 {
		t.Errorf("quantised %d", ExpectedLossPercent(rep.FractionLost))
	}
	// As packets (a WebRTC leg, issue 9 item 3): the same report, nothing marshalled, the same
	// reading of it.
	// (A second report: the receiver's interval starts again, so it is compared with itself.)
	pkts := BuildRTCPPackets(peer, &peerRecv, "peer@test", 8000, now)
	again, err := rtcp.Marshal(pkts)
	if err != nil || len(again) != len(pkt) {
		t.Errorf("packets marshal to %d bytes (%v), the compound packet is %d", len(again), err, len(pkt))
	}
	if fromBytes, err := ParseRTCP(again, ours.SSRC()); err != nil || ReadRTCP(pkts, ours.SSRC()) != fromBytes {
		t.Errorf("ReadRTCP %+v, ParseRTCP %+v (%v)", ReadRTCP(pkts, ours.SSRC()), fromBytes, err)
	}
	if _, err := ParseRTCP([]byte{0x80, 0xc9, 0, 7, 1}, 1); err == nil {
		t.Error("truncated RTCP accepted")
	}
}

func TestRTPReceiverObserveAllocatesNothing(t *testing.T) {
	var r RTPReceiver
	now := time.Now()
	seq := uint16(0)
	if a := testing.AllocsPerRun(1000, func() { seq++; r.Observe(1, seq, uint32(seq)*160, 8000, now) }); a != 0 {
		t.Errorf("%v allocations per packet", a)
	}
}

// TestRTPReceiverJitterAcrossTimestampWrap: the RTP timestamp wrapping at 2^32 (every 25 hours
// at 48 kHz) is no jump of transit time (RFC 3550 appendix A.8 works modulo 2^32).
func TestRTPReceiverJitterAcrossTimestampWrap(t *testing.T) {
	var r RTPReceiver
	now := time.Unix(5000, 0)
	ts := uint32(0xFFFFFFFF - 5*960)
	for i := range 20 {
		r.Observe(3, uint16(i), ts, 48000, now)
		ts += 960
		now = now.Add(20 * time.Millisecond)
	}
	if rr, _ := r.Report(now); rr.Jitter > 1 {
		t.Errorf("jitter %d after a timestamp wrap on a steady stream, want 0", rr.Jitter)
	}
}
