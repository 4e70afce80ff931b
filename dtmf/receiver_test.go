package dtmf

import (
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// feed pushes packets spaced by 20 ms from start and returns every detection, copied.
func feed(t *testing.T, r *Receiver, start time.Time, pkts []Packet) ([]Detection, time.Time) {
	t.Helper()
	var all []Detection
	now := start
	for _, p := range pkts {
		ds, err := r.Push(now, p.Timestamp, p.Marker, p.Payload[:])
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ds...)
		now = now.Add(20 * time.Millisecond)
	}
	return all, now
}

func packets(t *testing.T, d Digit, dur time.Duration, ts uint32, clock int) []Packet {
	t.Helper()
	p, err := AppendPackets(nil, d, dur, ts, SenderConfig{ClockRate: clock})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newReceiver(t *testing.T, clock int) *Receiver {
	t.Helper()
	r, err := NewReceiver(ReceiverConfig{ClockRate: clock})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReceiverOneDigit(t *testing.T) {
	for _, clock := range []int{8000, 16000, 48000} {
		r := newReceiver(t, clock)
		pk := packets(t, '5', 160*time.Millisecond, 1000, clock)
		got, _ := feed(t, r, t0, pk)
		if len(got) != 1 {
			t.Fatalf("%d Hz: %d detections, want 1", clock, len(got))
		}
		d := got[0]
		if d.Digit != '5' || d.Duration != 160*time.Millisecond || d.Ticks != uint32(clock*160/1000) ||
			d.Timestamp != 1000 || !d.Ended || d.Volume != 10 {
			t.Errorf("%d Hz: %+v", clock, d)
		}
		s := r.Stats()
		if s.Digits != 1 || s.Duplicates != 2 || s.Packets != uint64(len(pk)) || s.LostEnds != 0 {
			t.Errorf("%d Hz stats %+v", clock, s)
		}
	}
}

func TestReceiverLoss(t *testing.T) {
	clock := 8000
	first := packets(t, '1', 100*time.Millisecond, 5000, clock) // 5 packets + 2 repeated ends
	second := packets(t, '#', 60*time.Millisecond, 5000+800+1600, clock)
	n := len(first)
	// Every pattern of loss among the first digit's packets: the first digit is reported once
	// if any packet of it arrives, never twice; the second exactly once.
	for mask := 0; mask < 1<<n; mask++ {
		r := newReceiver(t, clock)
		var kept []Packet
		for i, p := range first {
			if mask&(1<<i) == 0 {
				kept = append(kept, p)
			}
		}
		got, _ := feed(t, r, t0, append(kept, second...))
		want := 1
		if len(kept) > 0 {
			want = 2
		}
		if len(got) != want {
			t.Fatalf("loss mask %b: %d detections %+v, want %d", mask, len(got), got, want)
		}
		if want == 2 && (got[0].Digit != '1' || got[1].Digit != '#') {
			t.Fatalf("loss mask %b: %+v", mask, got)
		}
		endsLost := mask>>4 == 0b111 // packets 4, 5, 6 are the end packets
		if want == 2 && got[0].Ended == endsLost {
			t.Fatalf("loss mask %b: Ended %v", mask, got[0].Ended)
		}
		if want == 2 && !endsLost && got[0].Duration != 100*time.Millisecond {
			t.Fatalf("loss mask %b: duration %v", mask, got[0].Duration)
		}
	}
}

func TestReceiverLostEndsExpire(t *testing.T) {
	r := newReceiver(t, 8000)
	pk := packets(t, '9', 200*time.Millisecond, 0, 8000)
	got, now := feed(t, r, t0, pk[:5]) // ends (and one update) lost
	if len(got) != 0 {
		t.Fatalf("reported before the end: %+v", got)
	}
	if _, ok := r.Expire(now.Add(400 * time.Millisecond)); ok {
		t.Fatal("expired too early")
	}
	d, ok := r.Expire(now.Add(500 * time.Millisecond))
	if !ok || d.Digit != '9' || d.Ended || d.Duration != 100*time.Millisecond {
		t.Fatalf("expire: %+v %v", d, ok)
	}
	if _, ok := r.Expire(now.Add(time.Second)); ok {
		t.Fatal("expired twice")
	}
	// A late end packet of the same event is a duplicate now.
	if ds, _ := r.Push(now.Add(time.Second), pk[len(pk)-1].Timestamp, false, pk[len(pk)-1].Payload[:]); len(ds) != 0 {
		t.Fatalf("late end reported again: %+v", ds)
	}
	if s := r.Stats(); s.LostEnds != 1 || s.Digits != 1 || s.Duplicates != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestReceiverFlushAndReset(t *testing.T) {
	r := newReceiver(t, 8000)
	pk := packets(t, 'A', 100*time.Millisecond, 0, 8000)
	feed(t, r, t0, pk[:2])
	d, ok := r.Flush()
	if !ok || d.Digit != 'A' || d.Ended {
		t.Fatalf("flush: %+v %v", d, ok)
	}
	if _, ok := r.Flush(); ok {
		t.Fatal("flushed twice")
	}
	r.Reset()
	// After a reset (new SSRC) the same timestamp is a new event.
	got, _ := feed(t, r, t0, pk)
	if len(got) != 1 {
		t.Fatalf("after reset: %+v", got)
	}
}

func TestReceiverSequences(t *testing.T) {
	clock := 8000
	var all []Packet
	ts := uint32(0xffffff00) // wraps during the call
	for _, d := range []Digit{'5', '5', '*', '0', 'D'} {
		all = append(all, packets(t, d, 120*time.Millisecond, ts, clock)...)
		ts += 960 + 800
	}
	r := newReceiver(t, clock)
	got, _ := feed(t, r, t0, all)
	var s string
	for _, d := range got {
		s += d.Digit.String()
	}
	if s != "55*0D" {
		t.Errorf("digits %q, want 55*0D", s)
	}
	// Reordering: an old event's packet after a newer event started is stale.
	r = newReceiver(t, clock)
	a := packets(t, '1', 100*time.Millisecond, 1000, clock)
	b := packets(t, '2', 100*time.Millisecond, 3000, clock)
	got, _ = feed(t, r, t0, []Packet{a[0], a[1], b[0], a[2], b[1], a[6], b[6]})
	if len(got) != 2 || got[0].Digit != '1' || got[1].Digit != '2' || r.Stats().Stale != 2 {
		t.Errorf("reordered: %+v stats %+v", got, r.Stats())
	}
}

func TestReceiverOtherEventsAndErrors(t *testing.T) {
	r := newReceiver(t, 8000)
	d1 := packets(t, '3', 100*time.Millisecond, 100, 8000)
	feed(t, r, t0, d1[:3])
	flash := Event{Code: 16, Duration: 160}
	ds, err := r.Push(t0, 5000, true, flash.Marshal())
	if err != nil || len(ds) != 1 || ds[0].Digit != '3' || ds[0].Ended {
		t.Fatalf("flash after open digit: %+v %v", ds, err)
	}
	flash.End = true
	if ds, _ := r.Push(t0, 5000, false, flash.Marshal()); len(ds) != 0 {
		t.Fatalf("flash reported: %+v", ds)
	}
	if s := r.Stats(); s.Other != 2 || s.Digits != 1 {
		t.Errorf("stats %+v", s)
	}
	if _, err := r.Push(t0, 6000, true, []byte{1, 2, 3}); !errors.Is(err, ErrShortPayload) {
		t.Errorf("short payload: %v", err)
	}
	if r.Stats().Malformed != 1 {
		t.Error("malformed not counted")
	}
	if _, err := NewReceiver(ReceiverConfig{ClockRate: 44100}); !errors.Is(err, ErrClockRate) {
		t.Errorf("clock: %v", err)
	}
	// An event whose only surviving packet is an end packet.
	r = newReceiver(t, 8000)
	end := Event{Code: 11, End: true, Volume: 7, Duration: 400}
	ds, _ = r.Push(t0, 42, false, end.Marshal())
	if len(ds) != 1 || ds[0].Digit != '#' || !ds[0].Ended || ds[0].Duration != 50*time.Millisecond {
		t.Errorf("end only: %+v", ds)
	}
}

func TestReceiverLongEventSegments(t *testing.T) {
	// 2 s of '0' at 48 kHz is 96000 ticks: a first segment that reaches 0xFFFF, then a second
	// segment at timestamp+0xFFFF without marker (RFC 4733 section 2.5.1.3).
	const start = 777
	got := longPress(t, newReceiver(t, 48000), 0, start, start+0xffff, 96000, 2400)
	if len(got) != 1 || got[0].Ticks != 96000 || got[0].Duration != 2*time.Second || got[0].Timestamp != start {
		t.Fatalf("long event: %+v", got)
	}
}

// longPress pushes one key press of total ticks as two segments (RFC 4733 section 2.5.1.3), the
// second at timestamp second, in updates every step ticks sent 50 ms apart, and returns the
// detections, copied.
func longPress(t *testing.T, r *Receiver, code uint8, start, second, total, step uint32) []Detection {
	t.Helper()
	now := t0
	var got []Detection
	push := func(ts uint32, marker bool, e Event) {
		ds, err := r.Push(now, ts, marker, e.Marshal())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ds...)
		now = now.Add(50 * time.Millisecond)
	}
	for d, first := step, true; ; d += step {
		push(start, first, Event{Code: code, Duration: uint16(min(d, 0xffff))})
		first = false
		if d >= 0xffff {
			break
		}
	}
	rest := total - 0xffff
	for d := step; d < rest; d += step {
		push(second, false, Event{Code: code, Duration: uint16(d)})
	}
	for range 3 {
		push(second, false, Event{Code: code, End: true, Duration: uint16(rest)})
	}
	return got
}

// TestReceiverEventClockBesideAudioClock: telephone-event/8000 beside Opus at 48 kHz, as
// libwebrtc sends it, writes the events' timestamps on the audio's 48 kHz timeline while their
// durations count 8 kHz ticks (sdpneg answers so when the offer has no telephone-event at the
// codec's clock). A 10 s key press, two segments (RFC 4733 section 2.5.1.3), is one digit of
// 10 s, not two digits, once the receiver knows the timestamps' clock.
func TestReceiverEventClockBesideAudioClock(t *testing.T) {
	r, err := NewReceiver(ReceiverConfig{ClockRate: 8000, TimestampRate: 48000})
	if err != nil {
		t.Fatal(err)
	}
	const start = 777
	got := longPress(t, r, 5, start, start+0xffff*6, 80000, 400) // the first segment's duration, at 48 kHz
	if len(got) != 1 || !got[0].Ended || got[0].Ticks != 80000 || got[0].Duration != 10*time.Second {
		t.Fatalf("a 10 s key press: %+v", got)
	}
	if _, err := NewReceiver(ReceiverConfig{TimestampRate: -1}); !errors.Is(err, ErrClockRate) {
		t.Errorf("a negative timestamp clock: %v", err)
	}
}

func TestReceiverAllocs(t *testing.T) {
	r := newReceiver(t, 8000)
	pk := packets(t, '7', 100*time.Millisecond, 0, 8000)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		p := pk[i%len(pk)]
		p.Timestamp += uint32(i/len(pk)) * 2000
		_, _ = r.Push(t0, p.Timestamp, p.Marker, p.Payload[:])
		r.Expire(t0)
		i++
	})
	if allocs != 0 {
		t.Errorf("Push allocates %v per packet", allocs)
	}
}

func BenchmarkReceiverPush(b *testing.B) {
	r, _ := NewReceiver(ReceiverConfig{})
	pk, _ := AppendPackets(nil, '7', 100*time.Millisecond, 0, SenderConfig{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := pk[i%len(pk)]
		_, _ = r.Push(t0, p.Timestamp+uint32(i/len(pk))*2000, p.Marker, p.Payload[:])
	}
}
