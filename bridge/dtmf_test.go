package bridge

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/pion/rtp"

	"confd/codec"
	"confd/jitter"
)

// dtmfPacket returns one packet of an RFC 4733 event (section 2.3: event, E bit, duration),
// the first of its event (marker set) or a later one.
func dtmfPacket(seq uint16, ts uint32, event byte, end, first bool, duration uint16) []byte {
	payload := make([]byte, 4)
	payload[0], payload[1] = event, 10
	if end {
		payload[1] |= 0x80
	}
	binary.BigEndian.PutUint16(payload[2:], duration)
	pkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: seq, Timestamp: ts, SSRC: 99, Marker: first},
		Payload: payload}).Marshal()
	return pkt
}

// dtmfInput is a SIP phone's input: PCMU and telephone-event/8000.
var dtmfInput = []jitter.PayloadType{{Type: 0, Codec: codec.PCMU}, {Type: 101, Kind: jitter.TelephoneEvent}}

// digitsOf returns the digits of the dtmf events waiting on c, and whether a self-mute came.
func digitsOf(c <-chan Event) (digits string, muted bool) {
	for {
		select {
		case e := <-c:
			switch {
			case e.Type == EventDTMF:
				digits += e.Data["digit"].(string)
			case e.Type == EventMute && e.Data["by"] == "self":
				muted = e.Data["muted"] == true
			}
		default:
			return digits, muted
		}
	}
}

// TestDigitWithLostEndsIsReportedByTheRoomsTick is review 3 finding 3: a phone with silence
// suppression sends a '6' whose end packets are all lost, then nothing. The room's tick reports
// the digit once its event has been quiet for the receiver's timeout, so the *6 mutes at once;
// the digit used to wait for the phone's next packet, which came only when its owner next spoke.
func TestDigitWithLostEndsIsReportedByTheRoomsTick(t *testing.T) {
	b := New(Config{})
	b.noClock = true // this test owns the room and ticks it
	p := mustJoin(t, b, "quiet", ParticipantInfo{Name: "A", Kind: "sip", Output: codec.Format{Codec: codec.PCMU}, Input: dtmfInput}, &fakeLeg{})
	events := b.Bus().Subscribe("quiet", 64, "")
	defer events.Close()
	r, _ := b.Room("quiet")
	now := time.Unix(1000, 0)
	if err := p.PushRTP(dtmfPacket(1, 1600, 10, true, true, 800), now); err != nil { // '*', ended
		t.Fatal(err)
	}
	for i := range 3 { // '6', its first three packets; the end packets never come
		if err := p.PushRTP(dtmfPacket(uint16(2+i), 3200, 6, false, i == 0, uint16(400*(i+1))), now.Add(time.Duration(i)*50*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	last := now.Add(100 * time.Millisecond)
	if got, _ := digitsOf(events.C); got != "*" {
		t.Fatalf("before any tick the digits reported are %q, want \"*\"", got)
	}
	var reported time.Time
	for due := now; due.Before(now.Add(2 * time.Second)); due = due.Add(codec.FrameDuration) {
		r.between()
		r.tick(due)
		if got, _ := digitsOf(events.C); got != "" {
			if got != "6" || !reported.IsZero() {
				t.Fatalf("at %v the digits reported are %q", due.Sub(now), got)
			}
			reported = due
		}
	}
	r.between() // the *6's mute, queued for the room's owner
	if reported.IsZero() {
		t.Fatal("the '6' whose end packets were lost was never reported by the room's ticks")
	}
	if wait := reported.Sub(last); wait < 500*time.Millisecond || wait > 500*time.Millisecond+codec.FrameDuration {
		t.Errorf("the '6' was reported %v after its last packet, want the receiver's 500 ms timeout, to a tick", wait)
	}
	if st := r.State(); !st.Participants[0].Muted {
		t.Errorf("after *6 the participant is %+v, want muted by itself", st.Participants[0])
	}
}

// TestRefusedMediaChangeKeepsTheDigitReceiver is review 3 finding 8: a re-INVITE whose output
// the room refuses changes nothing, so the event receiver that has reported a digit still knows
// it, and the digit's repeated end packets (RFC 4733 section 2.5.1.4 sends three) do not report
// it again. SetMedia used to install a new receiver before the room had accepted the change.
func TestRefusedMediaChangeKeepsTheDigitReceiver(t *testing.T) {
	b := New(Config{})
	p := mustJoin(t, b, "refused", ParticipantInfo{Name: "A", Kind: "sip", Output: codec.Format{Codec: codec.PCMU}, Input: dtmfInput}, &fakeLeg{})
	events := b.Bus().Subscribe("refused", 64, "")
	defer events.Close()
	now := time.Unix(1000, 0)
	if err := p.PushRTP(dtmfPacket(1, 1600, 5, true, true, 800), now); err != nil {
		t.Fatal(err)
	}
	refused := codec.Format{Codec: codec.Opus, Bitrate: 1} // below codec.MinOpusBitrate
	err := p.SetMedia(refused, 111, []jitter.PayloadType{{Type: 111, Codec: codec.Opus}, {Type: 101, Kind: jitter.TelephoneEvent, ClockRate: 48000}})
	if err == nil {
		t.Fatal("SetMedia accepted an Opus output of 1 bit/s")
	}
	for i := range 2 { // the end packet's repetitions
		if err := p.PushRTP(dtmfPacket(uint16(2+i), 1600, 5, true, false, 800), now.Add(time.Duration(i+1)*20*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := digitsOf(events.C); got != "5" {
		t.Errorf("one '5' and a refused re-INVITE reported the digits %q, want \"5\"", got)
	}
	if st := p.State(); st.Codec != "PCMU" {
		t.Errorf("after a refused re-INVITE the participant shows %q, want PCMU still", st.Codec)
	}
}

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
