package dtmf

import (
	"testing"
	"time"
)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func TestCollector(t *testing.T) {
	type press struct {
		at    float64
		digit Digit // 0: Check only
		want  Status
	}
	cases := []struct {
		name   string
		cfg    CollectorConfig
		steps  []press
		digits string
	}{
		{"terminated by #", CollectorConfig{}, []press{{1, '1', Collecting}, {2, '2', Collecting}, {3, '#', Terminated}, {4, '5', Terminated}}, "12"},
		{"# alone", CollectorConfig{}, []press{{1, '#', Terminated}}, ""},
		{"full", CollectorConfig{MaxDigits: 3}, []press{{1, '1', Collecting}, {1.5, '2', Collecting}, {2, '3', Full}, {2.5, '4', Full}}, "123"},
		{"no input", CollectorConfig{}, []press{{9.9, 0, Collecting}, {10, 0, NoInput}, {11, '1', NoInput}}, ""},
		{"inter-digit timeout", CollectorConfig{}, []press{{1, '4', Collecting}, {5.9, 0, Collecting}, {6, 0, InterDigitTimeout}}, "4"},
		{"late digit does not count", CollectorConfig{}, []press{{1, '4', Collecting}, {7, '5', InterDigitTimeout}}, "4"},
		{"overall timeout", CollectorConfig{}, []press{{4, '1', Collecting}, {8, '2', Collecting}, {12, '3', Collecting}, {16, '4', Collecting},
			{20, '5', Collecting}, {24, '6', Collecting}, {28, '7', Collecting}, {30, '8', Timeout}}, "1234567"},
		{"* terminator", CollectorConfig{Terminator: '*'}, []press{{1, '#', Collecting}, {2, '*', Terminated}}, "#"},
		{"timeouts off", CollectorConfig{FirstDigitTimeout: -1, InterDigitTimeout: -1, OverallTimeout: -1},
			[]press{{100, 0, Collecting}, {1000, '9', Collecting}, {5000, 0, Collecting}}, "9"},
		{"invalid digit ignored", CollectorConfig{}, []press{{1, 'x', Collecting}, {2, '1', Collecting}}, "1"},
	}
	for _, tc := range cases {
		c, err := NewCollector(tc.cfg, t0)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range tc.steps {
			var got Status
			if p.digit == 0 {
				got = c.Check(at(p.at))
			} else {
				got = c.Add(p.digit, at(p.at))
			}
			if got != p.want {
				t.Errorf("%s: at %vs %q: %v, want %v", tc.name, p.at, p.digit, got, p.want)
			}
		}
		if c.Digits() != tc.digits || c.Len() != len(tc.digits) {
			t.Errorf("%s: digits %q, want %q", tc.name, c.Digits(), tc.digits)
		}
	}
}

func TestCollectorDeadlineAndRetry(t *testing.T) {
	c, err := NewCollector(CollectorConfig{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Deadline().Equal(at(10)) {
		t.Errorf("first deadline %v", c.Deadline())
	}
	c.Add('1', at(1))
	if !c.Deadline().Equal(at(6)) {
		t.Errorf("inter-digit deadline %v", c.Deadline())
	}
	for s := 5.0; s < 28; s += 4 {
		c.Add('2', at(s))
	}
	if !c.Deadline().Equal(at(30)) {
		t.Errorf("overall deadline %v", c.Deadline())
	}
	c.Add('#', at(29.5))
	if !c.Deadline().IsZero() || c.Status() != Terminated {
		t.Errorf("finished: %v %v", c.Deadline(), c.Status())
	}
	// The next try starts afresh.
	c.Start(at(40))
	if c.Status() != Collecting || c.Digits() != "" || !c.Deadline().Equal(at(50)) {
		t.Errorf("retry: %v %q %v", c.Status(), c.Digits(), c.Deadline())
	}
	if _, err := NewCollector(CollectorConfig{MaxDigits: 65}, t0); err == nil {
		t.Error("MaxDigits 65 accepted")
	}
	if _, err := NewCollector(CollectorConfig{Terminator: 'x'}, t0); err == nil {
		t.Error("bad terminator accepted")
	}
	for s := Collecting; s <= Timeout+1; s++ {
		if s.String() == "" {
			t.Error("empty status name")
		}
	}
}
