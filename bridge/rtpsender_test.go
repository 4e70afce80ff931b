package bridge

import (
	"testing"
	"time"

	"github.com/pion/rtp"

	"confd/codec"
	"confd/testkit/audiotest"
)

func TestRTPSenderKeepsSequenceAndTimestampContinuous(t *testing.T) {
	s := NewRTPSender(111)
	buf := make([]byte, 1500)
	now := time.Unix(1000, 0)
	var got []rtp.Packet
	send := func(payload []byte, marker bool) {
		n, err := s.Packet(buf, payload, marker, 960, now)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		var p rtp.Packet
		if err := p.Unmarshal(append([]byte(nil), buf[:n]...)); err != nil {
			t.Fatal(err)
		}
		got = append(got, p)
	}
	send([]byte{1, 2, 3}, false)
	send([]byte{4}, false)
	send(nil, false) // DTX: nothing sent, timestamp advances
	send(nil, false)
	send([]byte{5}, true)
	if len(got) != 3 {
		t.Fatalf("%d packets, want 3", len(got))
	}
	if !got[0].Marker || got[1].Marker || !got[2].Marker {
		t.Errorf("markers %v %v %v, want first packet and talkspurt start", got[0].Marker, got[1].Marker, got[2].Marker)
	}
	if got[1].SequenceNumber != got[0].SequenceNumber+1 || got[2].SequenceNumber != got[1].SequenceNumber+1 {
		t.Errorf("sequence numbers not consecutive: %d %d %d", got[0].SequenceNumber, got[1].SequenceNumber, got[2].SequenceNumber)
	}
	if d := got[2].Timestamp - got[1].Timestamp; d != 3*960 {
		t.Errorf("timestamp across a 2-packet DTX gap advanced %d, want %d", d, 3*960)
	}
	if got[0].SSRC != s.SSRC() || got[0].PayloadType != 111 {
		t.Errorf("header %+v", got[0].Header)
	}
	if st := s.Stats(); st.Packets != 3 || st.Octets != 5 {
		t.Errorf("stats %+v", st)
	}
}

func TestRTPSenderAllocatesNothing(t *testing.T) {
	s := NewRTPSender(0)
	buf := make([]byte, 1500)
	payload := make([]byte, 160)
	now := time.Now()
	if a := testing.AllocsPerRun(1000, func() { _, _ = s.Packet(buf, payload, false, 160, now) }); a != 0 {
		t.Errorf("%v allocations per packet, want 0", a)
	}
}

// TestRTPSenderNextMatchesPacket: the header a TypedLeg gets (Next) is the one Packet writes, and
// both advance the stream alike, DTX gaps included; Next allocates nothing.
func TestRTPSenderNextMatchesPacket(t *testing.T) {
	a, b := NewRTPSender(111), NewRTPSender(111)
	b.header = a.header // the same random start
	buf := make([]byte, 1500)
	now := time.Unix(1000, 0)
	for i := range 20 {
		payload := []byte{0x78, byte(i), 2, 3}
		if i%5 == 4 {
			payload = nil // DTX
		}
		n, err := a.Packet(buf, payload, i == 0, 960, now)
		if err != nil {
			t.Fatal(err)
		}
		h, ok := b.Next(payload, i == 0, 960, now)
		if ok != (n > 0) {
			t.Fatalf("tick %d: Next sent %v, Packet wrote %d bytes", i, ok, n)
		}
		if !ok {
			continue
		}
		m, _ := h.MarshalTo(make([]byte, 1500))
		var got rtp.Header
		if _, err := got.Unmarshal(buf[:n]); err != nil {
			t.Fatal(err)
		}
		if got.SequenceNumber != h.SequenceNumber || got.Timestamp != h.Timestamp || got.Marker != h.Marker ||
			got.SSRC != h.SSRC || got.PayloadType != h.PayloadType || n-m != len(payload) {
			t.Fatalf("tick %d: Packet wrote %+v, Next gave %+v", i, got, *h)
		}
	}
	payload := []byte{0x78, 1, 2}
	if allocs := testing.AllocsPerRun(100, func() { b.Next(payload, false, 960, now) }); allocs != 0 {
		t.Errorf("Next allocates %v times", allocs)
	}
}

// TestMaximalOpusPayloadIsSent is review 3 finding 7: a listener on Opus at its highest bitrate
// and longest packet time is encoded payloads of up to codec.MaxPayloadSize bytes, and the room
// sends every one, header and all (a tone at 510 kbit/s fills 120 ms packets to the brim). The
// room's packet buffer was 1500 bytes for header and payload together, so a payload over 1488
// bytes failed with errShortBuffer and was never sent: the tone reached the listener as one
// packet in fifty.
func TestMaximalOpusPayloadIsSent(t *testing.T) {
	b := New(Config{})
	b.noClock = true // this test owns the room and ticks it
	talker := joinTestPhone(t, b, "big", "talker", codec.Format{Codec: codec.PCMU}, 0, 1, audiotest.NewTone(440, 0.15, codec.SampleRate).Fill, &fakeLeg{})
	wide := codec.Format{Codec: codec.Opus, Bitrate: codec.MaxOpusBitrate, PacketTime: codec.MaxPacketDuration, Stereo: true, NoDTX: true}
	leg := &dueLeg{}
	mustJoin(t, b, "big", ParticipantInfo{Name: "listener", Kind: "sip", Output: wide, OutputPT: 111}, leg)
	r, _ := b.Room("big")
	now := time.Unix(1000, 0)
	const ticks = 300
	for range ticks {
		talker.push(t, now)
		r.between()
		r.tick(now)
		now = now.Add(codec.FrameDuration)
	}
	frames := int(codec.MaxPacketDuration / codec.FrameDuration)
	if len(leg.packets) < ticks/frames-2 {
		t.Errorf("%d packets sent in %d ticks of %v packets, want about %d", len(leg.packets), ticks, codec.MaxPacketDuration, ticks/frames)
	}
	largest := 0
	for _, pkt := range leg.packets {
		var p rtp.Packet
		if err := p.Unmarshal(pkt); err != nil {
			t.Fatal(err)
		}
		largest = max(largest, len(p.Payload))
	}
	if old := 1500 - rtpHeaderSize; largest <= old {
		t.Errorf("the largest payload sent is %d bytes, want one over %d (up to %d)", largest, old, codec.MaxPayloadSize)
	}
	t.Logf("%d packets, largest payload %d bytes", len(leg.packets), largest)
}

// TestRTPSenderResumeKeepsTimeOverAPause: a stream that paused (an IVR between prompts) and
// sends again carries the timestamp of the time it sends at; within its last packet's frame
// the timestamp does not move, and the sequence number never jumps.
func TestRTPSenderResumeKeepsTimeOverAPause(t *testing.T) {
	s := NewRTPSender(0)
	buf := make([]byte, MaxPacketSize)
	payload := make([]byte, 160)
	t0 := time.Unix(1000, 0)
	var first, h rtp.Header
	n, _ := s.Packet(buf, payload, true, 160, t0)
	_, _ = first.Unmarshal(buf[:n])
	for _, c := range []struct {
		at      time.Duration
		wantTS  uint32 // after first
		wantSeq uint16
	}{
		{10 * time.Millisecond, 160, 1},              // still inside the first packet's frame: no pause
		{time.Second + 30*time.Millisecond, 8320, 2}, // a second after the second packet's frame ended
	} {
		s.Resume(t0.Add(c.at), 8000)
		n, _ = s.Packet(buf, payload, false, 160, t0.Add(c.at))
		_, _ = h.Unmarshal(buf[:n])
		if h.SSRC != first.SSRC || h.SequenceNumber-first.SequenceNumber != c.wantSeq || h.Timestamp-first.Timestamp != c.wantTS {
			t.Errorf("sent at +%v: SSRC %x seq +%d timestamp +%d, want SSRC %x seq +%d timestamp +%d", c.at,
				h.SSRC, h.SequenceNumber-first.SequenceNumber, h.Timestamp-first.Timestamp, first.SSRC, c.wantSeq, c.wantTS)
		}
	}
}

// TestJoinGoesOnWithTheLegsStream: a participant that joins with the stream its leg has sent on
// (the IVR's prompts, ParticipantInfo.Stream) gets the room's packets on that stream: the same
// SSRC, the next sequence number, and a timestamp that kept time over the pause between the
// last prompt packet and the room's first packet for it, in whole frames, whatever the packet
// time (a 40 ms packet covers two frames and is due every other tick: red team).
func TestJoinGoesOnWithTheLegsStream(t *testing.T) {
	for _, ptime := range []time.Duration{20 * time.Millisecond, 40 * time.Millisecond} {
		t.Run(ptime.String(), func(t *testing.T) {
			w := newWorld(t, Config{})
			w.join("room", "Bob", 700)
			w.run(10)
			ivr := NewRTPSender(0)
			buf := make([]byte, MaxPacketSize)
			var last rtp.Header
			lastSent := w.now.Add(-180 * time.Millisecond)
			samples := codec.PCMU.RTPUnits(ptime)
			for i := range 3 {
				n, err := ivr.Packet(buf, make([]byte, samples), i == 0, samples, lastSent.Add(time.Duration(i-2)*ptime))
				if err != nil {
					t.Fatal(err)
				}
				_, _ = last.Unmarshal(buf[:n])
			}
			info := pcmuInfo("Ada")
			info.Output.PacketTime, info.Stream = ptime, ivr
			ada := joinSimInfo(t, w.b, "room", info, 440)
			w.phones = append(w.phones, ada)
			w.run(4)
			if len(ada.leg.packets) == 0 {
				t.Fatal("the room sent Ada nothing")
			}
			var h rtp.Header
			_, _ = h.Unmarshal(ada.leg.packets[0])
			gap := ada.leg.dues[0].Sub(lastSent)
			wantTS := uint32((gap+codec.FrameDuration/2)/codec.FrameDuration) * 160
			if h.SSRC != last.SSRC || h.SequenceNumber != last.SequenceNumber+1 || h.Timestamp-last.Timestamp != wantTS {
				t.Errorf("the room's first packet: SSRC %x seq %d timestamp +%d; the prompt's last: SSRC %x seq %d; want the same SSRC, the next seq, timestamp +%d (%v later)",
					h.SSRC, h.SequenceNumber, h.Timestamp-last.Timestamp, last.SSRC, last.SequenceNumber, wantTS, gap)
			}
		})
	}
}
