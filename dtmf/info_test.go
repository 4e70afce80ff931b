package dtmf

import (
	"errors"
	"testing"
	"time"
)

func TestParseInfo(t *testing.T) {
	cases := []struct {
		ct    string
		body  string
		digit Digit
		dur   time.Duration
		err   error
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', 160 * time.Millisecond, nil},
		{"application/dtmf-relay", "Signal= #\r\nDuration= 250", '#', 250 * time.Millisecond, nil},
		{"Application/DTMF-Relay; charset=utf-8", "signal = *\nduration=100\n", '*', 100 * time.Millisecond, nil},
		{"application/dtmf-relay", "Signal=10\r\nDuration=160\r\n", '*', 160 * time.Millisecond, nil},
		{"application/dtmf-relay", "Signal=11\r\n", '#', 0, nil},
		{"application/dtmf-relay", "Signal=d\r\n", 'D', 0, nil},
		{"application/dtmf-relay", "Signal=1\r\nDuration=100\r\nVolume=10\r\n", '1', 100 * time.Millisecond, nil},
		{"application/dtmf-relay", "\r\n  SIGNAL=0  \r\n\r\n", '0', 0, nil},
		{"application/dtmf", "7", '7', 0, nil},
		{"application/dtmf", " #\r\n", '#', 0, nil},
		{"application/dtmf", "11", '#', 0, nil},
		{"application/sdp", "v=0", 0, 0, ErrContentType},
		{"", "Signal=1", 0, 0, ErrContentType},
		{"application/dtmf-relay", "", 0, 0, ErrInfoBody},
		{"application/dtmf-relay", "Duration=160", 0, 0, ErrInfoBody},
		{"application/dtmf-relay", "Signal=E", 0, 0, ErrInfoBody},
		{"application/dtmf-relay", "Signal=16", 0, 0, ErrInfoBody},
		{"application/dtmf-relay", "Signal=12345", 0, 0, ErrInfoBody},
		{"application/dtmf-relay", "Signal=1\r\nDuration=-5", 0, 0, ErrInfoBody},
		{"application/dtmf-relay", "Signal=1\r\nDuration=abc", 0, 0, ErrInfoBody},
		{"application/dtmf-relay", "hello world", 0, 0, ErrInfoBody},
		{"application/dtmf", "", 0, 0, ErrInfoBody},
		{"application/dtmf", "12", 'A', 0, nil},
		{"application/dtmf", "1 2", 0, 0, ErrInfoBody},
		{"application/dtmf-relay", string(make([]byte, 2000)), 0, 0, ErrInfoBody},
	}
	for _, tc := range cases {
		d, dur, err := ParseInfo(tc.ct, []byte(tc.body))
		if !errors.Is(err, tc.err) || d != tc.digit || dur != tc.dur {
			t.Errorf("%q %q: %q %v %v, want %q %v %v", tc.ct, tc.body, d, dur, err, tc.digit, tc.dur, tc.err)
		}
	}
}

func TestFormatDTMFRelay(t *testing.T) {
	b, err := FormatDTMFRelay('#', 160*time.Millisecond)
	if err != nil || string(b) != "Signal=#\r\nDuration=160\r\n" {
		t.Fatalf("%q %v", b, err)
	}
	d, dur, err := ParseInfo(ContentTypeDTMFRelay, b)
	if err != nil || d != '#' || dur != 160*time.Millisecond {
		t.Errorf("round trip %v %v %v", d, dur, err)
	}
	if b, _ := FormatDTMFRelay('1', 0); string(b) != "Signal=1\r\n" {
		t.Errorf("no duration: %q", b)
	}
	if _, err := FormatDTMFRelay('x', 0); !errors.Is(err, ErrNotDigit) {
		t.Errorf("bad digit: %v", err)
	}
}
