package bridge

import (
	"log/slog"
	"testing"
	"time"

	"github.com/pion/rtp"

	"confd/codec"
	"confd/jitter"
	"confd/testkit/rtptest"
)

// streamParticipant joins one Opus participant that also sends telephone-event/8000, as a
// browser does, and returns it with a function that pushes one packet of its stream.
func streamParticipant(t *testing.T) (*Participant, func(h rtp.Header, payload []byte, at time.Time)) {
	t.Helper()
	b := New(Config{}, WithLogger(slog.New(slog.DiscardHandler)))
	b.noClock = true
	info := ParticipantInfo{Name: "p", Kind: "webrtc", Output: codec.Format{Codec: codec.Opus}, OutputPT: 111,
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
	p, push := streamParticipant(t)
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
	p, push := streamParticipant(t)
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
