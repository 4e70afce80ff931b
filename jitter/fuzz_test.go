package jitter

import (
	"encoding/binary"
	"testing"
	"time"

	"confd/codec"
)

// FuzzPush feeds the buffer a stream of packets built from the input — any payload type, sequence
// and timestamp steps, SSRC, payload and arrival time, interleaved with ticks that may or may not
// read — and checks that nothing panics, that Read keeps its contract, and that a clean stream
// from a new source plays afterwards: no input leaves the buffer stuck.
func FuzzPush(f *testing.F) {
	seed := func(ops ...[]byte) []byte {
		var b []byte
		for _, op := range ops {
			b = append(b, op...)
		}
		return b
	}
	// An op is 8 bytes: kind, payload type, sequence step (int8), timestamp step (int16), time
	// step in ms, SSRC selector, payload length; the payload follows.
	f.Add(seed([]byte{0, 111, 1, 0x03, 0xc0, 20, 0, 3, 0xfc, 1, 2}, []byte{1, 0, 0, 0, 0, 0, 0, 0}))
	f.Add(seed([]byte{0, 0, 1, 0, 160, 20, 0, 4, 1, 2, 3, 4}, []byte{0, 0, 0xff, 0, 160, 20, 0, 2, 5, 6}, []byte{2, 0, 0, 0, 0, 0, 0, 0}))
	f.Add(seed([]byte{0, 101, 1, 0, 0, 0, 0, 4, 1, 0, 0, 160}, []byte{0, 13, 1, 0, 0, 5, 0, 1, 40}, []byte{1, 0, 0, 0, 0, 0, 0, 0}))
	f.Add(seed([]byte{0, 111, 100, 0x7f, 0xff, 0, 1, 1, 0xf8}, []byte{0, 111, 1, 0x80, 0, 0, 2, 1, 0xf8}, []byte{1, 0, 0, 0, 0, 0, 0, 0}))
	f.Add(seed([]byte{0, 111, 1, 0x0b, 0x40, 60, 0, 5, 0x0b, 0xff, 0xff, 0xff, 0xff}, []byte{2, 0, 0, 0, 0, 0, 0, 0}, []byte{1, 0, 0, 0, 0, 0, 0, 0}))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Unix(1700000000, 0)
		var seq uint16
		var ts uint32
		var frame codec.Frame
		tick := func(read bool) bool {
			now = now.Add(codec.FrameDuration)
			a := b.Advance(now)
			if !read {
				return a.Present
			}
			frame[0], frame[codec.FrameSamples-1] = 1, 1
			ok := b.Read(&frame)
			if ok != a.Present {
				t.Fatalf("Read %v, Advance said Present %v", ok, a.Present)
			}
			if !ok && (frame[0] != 0 || frame[codec.FrameSamples-1] != 0) {
				t.Fatal("Read returned false without clearing the frame")
			}
			return ok
		}
		for len(data) >= 8 {
			op := data[:8]
			data = data[8:]
			switch op[0] % 3 {
			case 0:
				n := min(int(op[7]), len(data))
				payload := data[:n]
				data = data[n:]
				seq += uint16(int8(op[2]))
				ts += uint32(int32(int16(binary.BigEndian.Uint16(op[3:]))) * 8)
				now = now.Add(time.Duration(op[5]) * time.Millisecond / 4)
				_ = b.Push(Packet{PayloadType: op[1] % 128, SequenceNumber: seq, Timestamp: ts, SSRC: uint32(op[6] % 3),
					Marker: op[6]&0x80 != 0, Payload: payload, HasLevel: op[6]&0x40 != 0, Level: codec.Level(-int8(op[6] & 0x3f))}, now)
			case 1:
				tick(true)
			case 2:
				tick(false)
			}
		}
		st := b.Stats()
		if st.Played > st.Pushed {
			t.Fatalf("played %d of %d pushed", st.Played, st.Pushed)
		}
		// A clean PCMU stream from a new source must play within the maximum delay.
		played := 0
		for i := range 40 {
			now = now.Add(time.Millisecond)
			payload := make([]byte, 160)
			for j := range payload {
				payload[j] = byte(j)
			}
			if err := b.Push(Packet{PayloadType: 0, SequenceNumber: uint16(i), Timestamp: uint32(i * 160), SSRC: 99, Payload: payload}, now); err != nil {
				t.Fatal(err)
			}
			if tick(true) {
				played++
			}
		}
		if played < 25 {
			t.Fatalf("a clean stream after the fuzz input played %d of 40 ticks: %+v", played, b.Stats())
		}
	})
}
