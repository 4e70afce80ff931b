package bridge

import (
	"log/slog"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"confd/codec"
	"confd/jitter"
	"confd/testkit/rtptest"
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

// streamParticipant joins one Opus participant that also sends telephone-event/8000, as a
// browser does, and returns it with a function that pushes one packet of its stream.
// onDigit, if not nil, gets the digits it sends.
func streamParticipant(t *testing.T, onDigit func(byte)) (*Participant, func(h rtp.Header, payload []byte, at time.Time)) {
	t.Helper()
	b := New(Config{}, WithLogger(slog.New(slog.DiscardHandler)))
	b.noClock = true
	info := ParticipantInfo{Name: "p", Kind: "webrtc", Output: codec.Format{Codec: codec.Opus}, OutputPT: 111, OnDigit: onDigit,
		Input: []jitter.PayloadType{{Type: 111, Codec: codec.Opus}, {Type: 101, Kind: jitter.TelephoneEvent, ClockRate: 8000}}}
	p := mustJoin(t, b, "stream", info, &rtptest.NopLeg{})
	return p, func(h rtp.Header, payload []byte, at time.Time) {
		h.Version = 2
		if err := p.PushRTPPacket(&h, payload, at); err != nil {
			t.Fatal(err)
		}
	}
}

// opusSilence is an Opus packet of one 20 ms SILK frame (a TOC byte and a little data).
var opusSilence = []byte{0x08, 0x00, 0x00}

// TestReceiverJitterIsAudioOnly: the RFC 3550 interarrival jitter in confd's receiver reports
// measures the audio alone (RFC 3550 section 6.4.1 speaks of one clock; the jitter buffer's delay
// estimator uses audio only too). A DTMF digit's telephone-event packets, on their own 8 kHz
// clock and repeating one timestamp, once made the reported jitter jump from 0 to seconds.
func TestReceiverJitterIsAudioOnly(t *testing.T) {
	p, push := streamParticipant(t, nil)
	now := time.Unix(3000, 0)
	h := rtp.Header{SSRC: 5, SequenceNumber: 100, Timestamp: 48000, PayloadType: 111}
	audio := func(n int) {
		for range n {
			push(h, opusSilence, now)
			h.SequenceNumber++
			h.Timestamp += 960
			now = now.Add(20 * time.Millisecond)
		}
	}
	audio(50)
	// One digit "5" of 200 ms: ten updates and three end packets, all with the event's start
	// timestamp (RFC 4733 section 2.5.1), which a browser writes on the audio's clock.
	start := h.Timestamp
	for i := range 13 {
		dur := min(i+1, 10) * 160
		e := []byte{5, 10, byte(dur >> 8), byte(dur)}
		if i >= 10 {
			e[1] |= 0x80 // end
		}
		push(rtp.Header{SSRC: 5, SequenceNumber: h.SequenceNumber, Timestamp: start, PayloadType: 101, Marker: i == 0}, e, now)
		h.SequenceNumber++
		if i < 10 {
			h.Timestamp += 960
			now = now.Add(20 * time.Millisecond)
		}
	}
	audio(50)
	rr, ok := p.recv.Report(now)
	if !ok {
		t.Fatal("no report")
	}
	if rr.Jitter > 48 { // 1 ms at 48 kHz; the arrivals are perfectly regular
		t.Errorf("reported jitter %d clock units (%v) after one digit, want about 0", rr.Jitter, time.Duration(rr.Jitter)*time.Second/48000)
	}
	if rr.TotalLost != 0 {
		t.Errorf("%d reported lost: the event packets use sequence numbers of the stream too", rr.TotalLost)
	}
}

// TestReceiverLossSurvivesAStrayPacket: one packet from another SSRC (a stray, or a second
// source interleaved) does not restart the statistics; the stream restarts when two packets of
// the new source come in a row, the rule of the jitter buffer (RFC 3550 appendix A.1), and so
// does a jump of the sequence numbers.
func TestReceiverLossSurvivesAStrayPacket(t *testing.T) {
	p, push := streamParticipant(t, nil)
	now := time.Unix(3000, 0)
	h := rtp.Header{SSRC: 5, SequenceNumber: 100, Timestamp: 48000, PayloadType: 111}
	send := func(n int, lose func(i int) bool) {
		for i := range n {
			if !lose(i) {
				push(h, opusSilence, now)
			}
			h.SequenceNumber++
			h.Timestamp += 960
			now = now.Add(20 * time.Millisecond)
		}
	}
	lost := func(want uint32, what string) {
		t.Helper()
		rr, _ := p.recv.Report(now)
		if rr.TotalLost != want || rr.SSRC != h.SSRC {
			t.Errorf("%s: cumulative loss %d of SSRC %d, want %d of %d", what, rr.TotalLost, rr.SSRC, want, h.SSRC)
		}
	}
	send(100, func(i int) bool { return i%10 == 3 })
	lost(10, "before the stray")
	push(rtp.Header{SSRC: 99, SequenceNumber: 7, Timestamp: 1, PayloadType: 111}, opusSilence, now)
	send(10, func(int) bool { return false })
	lost(10, "after one stray packet")
	// One packet far off in sequence, then the stream goes on: a garbled number, not a restart.
	push(rtp.Header{SSRC: 5, SequenceNumber: h.SequenceNumber + 20000, Timestamp: h.Timestamp, PayloadType: 111}, opusSilence, now)
	send(10, func(int) bool { return false })
	lost(10, "after one far sequence number")
	// A new source that stays: the statistics are the new stream's.
	h.SSRC, h.SequenceNumber = 77, 5000
	send(10, func(i int) bool { return i == 5 })
	lost(1, "after a new source")
	// New numbering that stays: restarted too.
	h.SequenceNumber += 20000
	send(10, func(i int) bool { return i == 6 })
	lost(1, "after new numbering")
}
