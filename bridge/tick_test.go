package bridge

import (
	"testing"
	"time"

	"github.com/pion/rtp"

	"confd/codec"
	"confd/testkit/audiotest"
)

// TestRoomTickAllocatesNothing: with its participants talking steadily, a room's turn between
// ticks (an empty queue of changes) and its tick (mix, encodes, RTP headers, sends, talking and
// levels for readers, RTCP reports) allocate nothing, and neither do the packets pushed in, raw
// (PushRTP) or parsed by the leg (PushRTPPacket).
func TestRoomTickAllocatesNothing(t *testing.T) {
	// Reports every 100 ms on average: several of the measured ticks send RTCP (issue 9 item 3).
	b := New(Config{RTCPInterval: 100 * time.Millisecond})
	b.noClock = true // this test owns the room and ticks it
	var phones []*testPhone
	legs := []*countingLeg{{}, {}, {}, {}}
	for i, c := range []codec.Codec{codec.PCMU, codec.Opus, codec.PCMA, codec.PCMU} {
		tone := audiotest.NewTone(300+200*float64(i), 0.15, codec.SampleRate)
		phones = append(phones, joinTestPhone(t, b, "allocs", "p", codec.Format{Codec: c, NoDTX: true}, testPT(c), uint32(i+1), tone.Fill, legs[i]))
	}
	r, _ := b.Room("allocs")
	now := time.Unix(1000, 0)
	step := func() {
		for i, ph := range phones {
			if i%2 == 1 {
				// A leg that parses its packets itself hands over header and payload.
				ph.pushParsed(t, now)
				continue
			}
			ph.push(t, now)
		}
		now = now.Add(codec.FrameDuration)
		r.between()
		r.tick(now)
	}
	for range 200 { // talkers found, encoders warm, jitter buffers settled
		step()
	}
	if st := r.State(); !st.Participants[0].Talking {
		t.Fatalf("after 4 s the tones are not talking: %+v", st.Participants)
	}
	reports := func() (n int) {
		for _, l := range legs {
			n += l.reports
		}
		return n
	}
	before := reports()
	if allocs := testing.AllocsPerRun(200, step); allocs != 0 {
		t.Errorf("%.1f allocations per tick, want 0", allocs)
	}
	if n := reports() - before; n < 4*10 {
		t.Errorf("%d RTCP reports in the 4 s of ticks measured, want about 160", n)
	}
	for _, l := range legs {
		if l.packets < 300 {
			t.Errorf("a leg was sent %d packets in 400 ticks", l.packets)
		}
	}
}

// countingLeg is a Leg and an RTCPLeg that counts what it is sent and keeps none of it.
type countingLeg struct{ packets, reports int }

func (l *countingLeg) SendRTP([]byte)  { l.packets++ }
func (l *countingLeg) SendRTCP([]byte) { l.reports++ }
func (l *countingLeg) Hangup(string)   {}

// TestSkippedTicksKeepEveryLegInOrderAndInStep is issue 9 item 5: a room short of CPU skips
// ticks rather than running them late (Clock), and what each leg is sent stays a proper stream:
// sequence numbers go forward by one per packet (no burst, no duplicate, nothing out of order),
// every packet has the leg's negotiated payload type, and the RTP timestamps keep pace with the
// ticks' due times across the skipped ones, so that a listener's playout neither drifts behind
// nor queues.
func TestSkippedTicksKeepEveryLegInOrderAndInStep(t *testing.T) {
	b := New(Config{})
	b.noClock = true // this test owns the room and ticks it, as its Clock would after stalls
	type phone struct {
		*testPhone
		leg *dueLeg
	}
	var phones []*phone
	for i, c := range []codec.Codec{codec.PCMU, codec.Opus, codec.PCMA} {
		leg := &dueLeg{}
		tone := audiotest.NewTone(300+200*float64(i), 0.15, codec.SampleRate)
		phones = append(phones, &phone{joinTestPhone(t, b, "skips", "p", codec.Format{Codec: c, NoDTX: true}, testPT(c), uint32(i+1), tone.Fill, leg), leg})
	}
	r, _ := b.Room("skips")
	now := time.Unix(1000, 0)
	skipped := 0
	for i := range 300 {
		for _, ph := range phones {
			ph.push(t, now)
		}
		if i > 100 && i%7 == 0 {
			// The room's goroutine was late by more than a frame: the clock skips the tick
			// (and, every 35 ticks, three of them).
			skipped++
			if i%35 == 0 {
				now = now.Add(2 * codec.FrameDuration)
				skipped += 2
			}
			now = now.Add(codec.FrameDuration)
			continue
		}
		r.between()
		r.now = now
		r.tick(now)
		for _, ph := range phones {
			ph.leg.stamp(now)
		}
		now = now.Add(codec.FrameDuration)
	}
	if skipped < 30 {
		t.Fatalf("only %d ticks skipped", skipped)
	}
	for _, ph := range phones {
		l := ph.leg
		if len(l.packets) < 200 {
			t.Fatalf("%v leg: %d packets", ph.c, len(l.packets))
		}
		var prev rtp.Header
		for i, raw := range l.packets {
			var h rtp.Header
			if _, err := h.Unmarshal(raw); err != nil {
				t.Fatal(err)
			}
			if h.PayloadType != ph.h.PayloadType {
				t.Errorf("%v leg: packet %d has payload type %d, want %d", ph.c, i, h.PayloadType, ph.h.PayloadType)
			}
			if i > 0 {
				if h.SequenceNumber != prev.SequenceNumber+1 {
					t.Errorf("%v leg: packet %d numbered %d after %d", ph.c, i, h.SequenceNumber, prev.SequenceNumber)
				}
				want := uint32(l.dues[i].Sub(l.dues[i-1]) * time.Duration(ph.c.ClockRate()) / time.Second)
				if got := h.Timestamp - prev.Timestamp; got != want {
					t.Errorf("%v leg: packet %d's timestamp moved %d after %v of ticks, want %d", ph.c, i, got, l.dues[i].Sub(l.dues[i-1]), want)
				}
			}
			prev = h
		}
	}
}

// dueLeg keeps what the room sends it and the due time of the tick that sent each packet.
type dueLeg struct {
	packets [][]byte
	dues    []time.Time
}

func (l *dueLeg) SendRTP(pkt []byte) { l.packets = append(l.packets, append([]byte(nil), pkt...)) }
func (l *dueLeg) Hangup(string)      {}

// stamp gives the packets sent since the last stamp the due time of the tick just run.
func (l *dueLeg) stamp(due time.Time) {
	for len(l.dues) < len(l.packets) {
		l.dues = append(l.dues, due)
	}
}
