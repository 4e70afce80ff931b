package dtmf

import (
	"errors"
	"testing"
	"time"
)

func TestSenderPackets(t *testing.T) {
	cases := []struct {
		clock    int
		dur      time.Duration
		interval time.Duration
		n        int
		durs     []uint16
	}{
		{8000, 100 * time.Millisecond, 0, 7, []uint16{160, 320, 480, 640, 800, 800, 800}},
		{8000, 90 * time.Millisecond, 0, 7, []uint16{160, 320, 480, 640, 720, 720, 720}},
		{48000, 60 * time.Millisecond, 0, 5, []uint16{960, 1920, 2880, 2880, 2880}},
		{8000, 100 * time.Millisecond, 50 * time.Millisecond, 4, []uint16{400, 800, 800, 800}},
		{8000, 10 * time.Millisecond, 0, 3, []uint16{80, 80, 80}},
	}
	for _, tc := range cases {
		pk, err := AppendPackets(nil, '#', tc.dur, 1234, SenderConfig{ClockRate: tc.clock, Interval: tc.interval})
		if err != nil {
			t.Fatal(err)
		}
		if len(pk) != tc.n {
			t.Fatalf("%d Hz %v: %d packets, want %d", tc.clock, tc.dur, len(pk), tc.n)
		}
		for i, p := range pk {
			var e Event
			if err := e.Unmarshal(p.Payload[:]); err != nil {
				t.Fatal(err)
			}
			wantEnd := i >= tc.n-3
			if p.Timestamp != 1234 || p.Marker != (i == 0) || p.End != wantEnd || e.End != wantEnd ||
				e.Code != 11 || e.Volume != 10 || e.Duration != tc.durs[i] {
				t.Errorf("%d Hz %v packet %d: %+v %+v", tc.clock, tc.dur, i, p, e)
			}
		}
	}
}

func TestSenderErrors(t *testing.T) {
	s, err := NewSender(SenderConfig{ClockRate: 48000})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start('x', time.Second, 0); !errors.Is(err, ErrNotDigit) {
		t.Errorf("bad digit: %v", err)
	}
	if err := s.Start('1', 0, 0); !errors.Is(err, ErrDuration) {
		t.Errorf("zero duration: %v", err)
	}
	if err := s.Start('1', 1400*time.Millisecond, 0); !errors.Is(err, ErrDuration) {
		t.Errorf("1.4 s at 48 kHz does not fit 16 bits: %v", err)
	}
	if err := s.Start('1', 100*time.Millisecond, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Start('2', 100*time.Millisecond, 0); !errors.Is(err, ErrBusy) {
		t.Errorf("busy: %v", err)
	}
	for s.Busy() {
		s.Next()
	}
	if _, ok := s.Next(); ok {
		t.Error("packet after the end")
	}
	if _, err := NewSender(SenderConfig{ClockRate: 11025}); !errors.Is(err, ErrClockRate) {
		t.Errorf("clock: %v", err)
	}
	if _, err := NewSender(SenderConfig{Interval: time.Hour}); !errors.Is(err, ErrDuration) {
		t.Errorf("interval: %v", err)
	}
}

func TestSenderAllocs(t *testing.T) {
	s, _ := NewSender(SenderConfig{})
	allocs := testing.AllocsPerRun(1000, func() {
		if !s.Busy() {
			_ = s.Start('4', 100*time.Millisecond, 0)
		}
		s.Next()
	})
	if allocs != 0 {
		t.Errorf("Sender allocates %v per packet", allocs)
	}
}

func TestEventRoundTrip(t *testing.T) {
	e := Event{Code: 15, End: true, Volume: 63, Duration: 0xfffe}
	var b [EventSize]byte
	if n, err := e.MarshalTo(b[:]); n != 4 || err != nil {
		t.Fatal(n, err)
	}
	if b != [4]byte{15, 0xbf, 0xff, 0xfe} {
		t.Errorf("bytes % x", b)
	}
	var got Event
	if err := got.Unmarshal(b[:]); err != nil || got != e {
		t.Errorf("round trip %+v %v", got, err)
	}
	// The R bit is ignored.
	if err := got.Unmarshal([]byte{1, 0x40 | 5, 0, 160}); err != nil || got != (Event{Code: 1, Volume: 5, Duration: 160}) {
		t.Errorf("R bit: %+v", got)
	}
	if _, err := e.MarshalTo(b[:3]); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("short buffer: %v", err)
	}
}

func TestDigits(t *testing.T) {
	for code := range uint8(16) {
		d, ok := DigitForEvent(code)
		if !ok || !d.Valid() {
			t.Fatalf("event %d", code)
		}
		if c, err := d.Event(); err != nil || c != code {
			t.Errorf("%v: event %d %v", d, c, err)
		}
	}
	if _, ok := DigitForEvent(16); ok {
		t.Error("event 16 is flash, not a digit")
	}
	if d, err := ParseDigit('b'); err != nil || d != 'B' {
		t.Errorf("lower case: %v %v", d, err)
	}
	for _, c := range []byte{0, 'E', 'e', ' ', '+'} {
		if _, err := ParseDigit(c); !errors.Is(err, ErrNotDigit) {
			t.Errorf("%q: %v", c, err)
		}
	}
	if Digit('*').String() != "*" || Digit(0).Valid() {
		t.Error("String/Valid")
	}
}
