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

// TestPushRTPPacketIsPushRTP is the receive half of issue 9 item 3: a packet the leg has parsed
// (header and payload, as pion's rtp.Packet gives them) is taken exactly as the same packet
// raw: the same receiver statistics for the RR (loss, highest sequence number, jitter), the same
// RFC 6464 level from its header extension, the same audio played out, and padding is not
// audio; and handing it over allocates nothing.
func TestPushRTPPacketIsPushRTP(t *testing.T) {
	b := New(Config{}, WithLogger(slog.New(slog.DiscardHandler)))
	b.noClock = true
	info := ParticipantInfo{Name: "p", Kind: "webrtc", Output: codec.Format{Codec: codec.PCMU}, LevelExtensionID: 1,
		Input: []jitter.PayloadType{{Type: 0, Codec: codec.PCMU}}}
	// Legs without RTCP: the room's reports would start each one's loss interval at its own time.
	raw := mustJoin(t, b, "typed", info, &rtptest.NopLeg{})
	typed := mustJoin(t, b, "typed", info, &rtptest.NopLeg{})
	r, _ := b.Room("typed")
	enc, err := codec.NewEncoder(codec.Format{Codec: codec.PCMU})
	if err != nil {
		t.Fatal(err)
	}
	var frame codec.Frame
	for i := range frame {
		frame[i] = int16(8000 * ((i/20)%2*2 - 1)) // a loud square wave
	}
	payload := make([]byte, codec.MaxPayloadSize)
	n, _ := enc.Encode(frame[:], payload)
	h := rtp.Header{Version: 2, SSRC: 77, SequenceNumber: 65530, Timestamp: 9, Padding: true, PaddingSize: 3}
	if err := h.SetExtension(1, []byte{0x80 | 10}); err != nil { // voice at -10 dBov
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	var parsed rtp.Packet
	now := time.Unix(2000, 0)
	push := func(i int) {
		h.SequenceNumber++
		h.Timestamp += 160
		if i%7 == 3 {
			return // lost
		}
		m, err := rtp.MarshalPacketTo(buf, &h, payload[:n])
		if err != nil {
			t.Fatal(err)
		}
		at := now.Add(time.Duration(i%3) * time.Millisecond) // a little jitter
		if err := raw.PushRTP(buf[:m], at); err != nil {
			t.Fatal(err)
		}
		if err := parsed.Unmarshal(buf[:m]); err != nil {
			t.Fatal(err)
		}
		if err := typed.PushRTPPacket(&parsed.Header, parsed.Payload, at); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 150 {
		push(i)
		now = now.Add(codec.FrameDuration)
		r.between()
		r.tick(now)
	}
	if l := typed.State().LevelDBov; l != raw.State().LevelDBov || l < -20 {
		t.Errorf("levels: parsed %v, raw %v", l, raw.State().LevelDBov)
	}
	a, _ := raw.recv.Report(now)
	c, _ := typed.recv.Report(now)
	if a != c || a.TotalLost == 0 || a.LastSequenceNumber>>16 != 1 {
		t.Errorf("receiver reports differ or are wrong: raw %+v, parsed %+v", a, c)
	}
	if st, sr := typed.buf.Load().Stats(), raw.buf.Load().Stats(); st != sr {
		t.Errorf("jitter buffers differ: parsed %+v, raw %+v", st, sr)
	}
	i := 150
	if allocs := testing.AllocsPerRun(100, func() {
		i++
		h.SequenceNumber++
		h.Timestamp += 160
		_ = typed.PushRTPPacket(&h, payload[:n], now)
		now = now.Add(codec.FrameDuration)
	}); allocs != 0 {
		t.Errorf("%.1f allocations per packet handed over", allocs)
	}
}
