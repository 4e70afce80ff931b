package jitter_test

import (
	"fmt"
	"time"

	"confd/codec"
	"confd/jitter"
)

// A leg's reader pushes each RTP packet as it arrives; the room's tick advances every leg, then
// reads the ones it mixes.
func Example() {
	buf, err := jitter.New(jitter.Config{
		PayloadTypes: []jitter.PayloadType{
			{Type: 0, Codec: codec.PCMU},
			{Type: 101, Kind: jitter.TelephoneEvent},
		},
		OnEvent: func(e jitter.Event, now time.Time) { fmt.Println("event", e.Kind, "payload", e.Payload) },
	})
	if err != nil {
		panic(err)
	}
	start := time.Unix(1700000000, 0)
	payload := make([]byte, 160) // 20 ms of µ-law
	var frame codec.Frame
	for i := range 5 {
		now := start.Add(time.Duration(i) * codec.FrameDuration)
		_ = buf.Push(jitter.Packet{PayloadType: 0, SequenceNumber: uint16(i), Timestamp: uint32(i * 160), SSRC: 1, Payload: payload}, now)
		activity := buf.Advance(now.Add(5 * time.Millisecond))
		if activity.Present {
			buf.Read(&frame)
		}
	}
	_ = buf.Push(jitter.Packet{PayloadType: 101, SequenceNumber: 5, Timestamp: 800, SSRC: 1, Payload: []byte{1, 0x8a, 0, 160}}, start.Add(100*time.Millisecond))
	// The first packet waited for the 40 ms start delay: three of the five have played.
	st := buf.Stats()
	fmt.Println("played", st.Played, "lost", st.Lost, "events", st.Events)
	fmt.Println(jitter.Audio, jitter.ComfortNoise, jitter.Kind(7))
	// Output:
	// event telephone-event payload [1 138 0 160]
	// played 3 lost 0 events 1
	// audio CN kind(7)
}
