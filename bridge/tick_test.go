package bridge

import (
	"testing"
	"time"

	"github.com/pion/rtp"

	"confd/codec"
	"confd/internal/audiotest"
	"confd/jitter"
)

// TestRoomTickAllocatesNothing: with its participants talking steadily, a room's turn between
// ticks (an empty queue of changes) and its tick (mix, encodes, RTP headers, sends, talking and
// levels for readers) allocate nothing, and neither do the packets pushed in.
func TestRoomTickAllocatesNothing(t *testing.T) {
	b := New(Config{})
	b.noClock = true // this test owns the room and ticks it
	type phone struct {
		p    *Participant
		c    codec.Codec
		pt   uint8
		enc  codec.Encoder
		tone *audiotest.Tone
		h    rtp.Header
	}
	var phones []*phone
	for i, c := range []codec.Codec{codec.PCMU, codec.Opus, codec.PCMA, codec.PCMU} {
		pt, _ := c.StaticPayloadType()
		if c == codec.Opus {
			pt = 111
		}
		p, err := b.Join("allocs", ParticipantInfo{Name: "p", Kind: "sip", Output: codec.Format{Codec: c}, OutputPT: pt,
			Input: []jitter.PayloadType{{Type: pt, Codec: c}}}, &countingLeg{})
		if err != nil {
			t.Fatal(err)
		}
		enc, err := codec.NewEncoder(codec.Format{Codec: c, NoDTX: true})
		if err != nil {
			t.Fatal(err)
		}
		phones = append(phones, &phone{p: p, c: c, pt: pt, enc: enc, tone: audiotest.NewTone(300+200*float64(i), 0.15, codec.SampleRate),
			h: rtp.Header{Version: 2, PayloadType: pt, SSRC: uint32(i + 1)}})
	}
	r, _ := b.Room("allocs")
	var frame codec.Frame
	payload, pkt := make([]byte, codec.MaxPayloadSize), make([]byte, 1500)
	now := time.Unix(1000, 0)
	step := func() {
		for _, ph := range phones {
			ph.tone.Fill(frame[:])
			n, _ := ph.enc.Encode(frame[:], payload)
			ph.h.SequenceNumber++
			ph.h.Timestamp += uint32(codec.FrameSamples * ph.c.ClockRate() / codec.SampleRate)
			m, _ := ph.h.MarshalTo(pkt)
			m += copy(pkt[m:], payload[:n])
			if err := ph.p.PushRTP(pkt[:m], now); err != nil {
				t.Fatal(err)
			}
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
	if allocs := testing.AllocsPerRun(200, step); allocs != 0 {
		t.Errorf("%.1f allocations per tick, want 0", allocs)
	}
	for _, ph := range phones {
		if n := ph.p.leg.(*countingLeg).packets; n < 300 {
			t.Errorf("a leg was sent %d packets in 400 ticks", n)
		}
	}
}

// countingLeg is a Leg that counts what it is sent and keeps none of it.
type countingLeg struct{ packets int }

func (l *countingLeg) SendRTP([]byte) { l.packets++ }
func (l *countingLeg) Hangup(string)  {}
