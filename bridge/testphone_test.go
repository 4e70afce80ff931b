package bridge

import (
	"testing"
	"time"

	"github.com/pion/rtp"

	"confd/codec"
	"confd/jitter"
)

// testPhone is a participant whose test sends it what capture fills, encoded and in RTP, one
// packet per frame, as its leg would. It owns its buffers: a push allocates nothing.
type testPhone struct {
	p       *Participant
	c       codec.Codec
	enc     codec.Encoder
	capture func([]int16)
	h       rtp.Header
	frame   codec.Frame
	payload []byte
	pkt     []byte
}

// sipInfo is a SIP participant that sends and receives c with payload type pt.
func sipInfo(name string, c codec.Codec, pt uint8) ParticipantInfo {
	return ParticipantInfo{Name: name, Kind: "sip", Output: codec.Format{Codec: c}, OutputPT: pt,
		Input: []jitter.PayloadType{{Type: pt, Codec: c}}}
}

// mustJoin joins info to room through leg, or fails the test.
func mustJoin(t testing.TB, b *Bridge, room string, info ParticipantInfo, leg Leg) *Participant {
	t.Helper()
	p, err := b.Join(room, info, leg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testPT is c's static payload type, or 111 for Opus.
func testPT(c codec.Codec) uint8 {
	if c == codec.Opus {
		return 111
	}
	pt, _ := c.StaticPayloadType()
	return pt
}

// joinTestPhone joins a SIP participant to room through leg, sending format's codec with payload
// type pt in a stream of SSRC ssrc.
func joinTestPhone(t testing.TB, b *Bridge, room, name string, format codec.Format, pt uint8, ssrc uint32, capture func([]int16), leg Leg) *testPhone {
	t.Helper()
	return joinTestPhoneInfo(t, b, room, sipInfo(name, format.Codec, pt), format, pt, ssrc, capture, leg)
}

// joinTestPhoneInfo is joinTestPhone with the participant's info.
func joinTestPhoneInfo(t testing.TB, b *Bridge, room string, info ParticipantInfo, format codec.Format, pt uint8, ssrc uint32, capture func([]int16), leg Leg) *testPhone {
	t.Helper()
	p := mustJoin(t, b, room, info, leg)
	enc, err := codec.NewEncoder(format)
	if err != nil {
		t.Fatal(err)
	}
	return &testPhone{p: p, c: format.Codec, enc: enc, capture: capture,
		h:       rtp.Header{Version: 2, PayloadType: pt, SSRC: ssrc},
		payload: make([]byte, codec.MaxPayloadSize), pkt: make([]byte, MaxPacketSize)}
}

// next encodes the next frame of capture, steps the header to it and returns its payload.
func (s *testPhone) next() []byte {
	s.capture(s.frame[:])
	n, _ := s.enc.Encode(s.frame[:], s.payload)
	s.h.SequenceNumber++
	s.h.Timestamp += uint32(codec.FrameSamples * s.c.ClockRate() / codec.SampleRate)
	return s.payload[:n]
}

// push pushes the next frame as a whole packet (PushRTP), at now.
func (s *testPhone) push(t testing.TB, now time.Time) {
	payload := s.next()
	m, _ := s.h.MarshalTo(s.pkt)
	m += copy(s.pkt[m:], payload)
	if err := s.p.PushRTP(s.pkt[:m], now); err != nil {
		t.Fatal(err)
	}
}

// pushParsed pushes the next frame as a leg that parses its packets does: header and payload
// (PushRTPPacket).
func (s *testPhone) pushParsed(t testing.TB, now time.Time) {
	payload := s.next()
	if err := s.p.PushRTPPacket(&s.h, payload, now); err != nil {
		t.Fatal(err)
	}
}

// ownerSteps returns one step of r's owner as its clock runs it, a frame apart from start:
// the queued changes, then the tick (for AllocsPerRun of a room's tick).
func ownerSteps(r *Room, start time.Time) func() {
	due := start
	return func() {
		r.between()
		r.tick(due)
		due = due.Add(codec.FrameDuration)
	}
}
