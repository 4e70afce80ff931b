package bridge

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestLongKeyPressBesideOpus: telephone-event/8000 beside Opus, whose event timestamps run on
// the 48 kHz audio clock while durations count 8 kHz ticks (libwebrtc), is decoded with both
// clocks: a 10 s key press, sent as two segments (RFC 4733 section 2.5.1.3), is one digit.
func TestLongKeyPressBesideOpus(t *testing.T) {
	var digits []byte
	_, push := streamParticipant(t, func(d byte) { digits = append(digits, d) })
	now := time.Unix(3000, 0)
	h := rtp.Header{SSRC: 5, SequenceNumber: 100, Timestamp: 48000, PayloadType: 101, Marker: true}
	event := func(ts uint32, ticks uint32, end bool) {
		e := []byte{5, 10, byte(ticks >> 8), byte(ticks)}
		if end {
			e[1] |= 0x80
		}
		h.Timestamp = ts
		push(h, e, now)
		h.SequenceNumber++
		h.Marker = false
		now = now.Add(50 * time.Millisecond)
	}
	const start = 48000
	for d := uint32(400); ; d += 400 {
		event(start, min(d, 0xffff), false)
		if d >= 0xffff {
			break
		}
	}
	second := uint32(start + 0xffff*6)
	for d := uint32(400); d < 80000-0xffff; d += 400 {
		event(second, d, false)
	}
	for range 3 {
		event(second, 80000-0xffff, true)
	}
	if string(digits) != "5" {
		t.Errorf("a 10 s key press gave digits %q, want one 5", digits)
	}
}
