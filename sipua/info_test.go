package sipua

import (
	"testing"

	"confd/dtmf"
)

// InfoDigit is the one reading of a SIP INFO DTMF body both legs answer with.
func TestInfoDigitAnswers(t *testing.T) {
	cases := []struct {
		ct, body string
		digit    dtmf.Digit
		status   int
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', 200},
		{"application/dtmf-relay", "Signal= 10\r\nDuration=160", '*', 200},
		{"Application/DTMF-Relay; charset=utf-8", "signal=11", '#', 200},
		{"application/dtmf", "7", '7', 200},
		{"application/dtmf", "a", 'A', 200},
		{"application/dtmf", "", 0, 200}, // keep-alive INFO
		{"", "", 0, 200},                 // keep-alive INFO without a content type
		{"application/dtmf", "x", 0, 400},
		{"application/dtmf-relay", "Duration=160", 0, 400},
		{"text/plain", "5", 0, 415},
		{"", "5", 0, 415},
	}
	for _, c := range cases {
		d, r := InfoDigit(c.ct, []byte(c.body))
		status := 200
		if r != nil {
			status = r.Status
			if r.Reason == "" {
				t.Errorf("%q %q: %d without a reason", c.ct, c.body, status)
			}
		}
		if d != c.digit || status != c.status {
			t.Errorf("%q %q: got %q %d, want %q %d", c.ct, c.body, d, status, c.digit, c.status)
		}
		if status == 415 && (len(r.Headers) != 1 || r.Headers[0].Name() != "Accept") {
			t.Errorf("%q %q: 415 without Accept: %v", c.ct, c.body, r.Headers)
		}
	}
}

// FuzzInfoDigit: no body or content type makes the INFO path panic; the answer is always
// 200, 400 or 415, and a digit comes only with a 200 and is always a DTMF key.
func FuzzInfoDigit(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf", []byte("#"))
	f.Add("application/dtmf-relay; charset=utf-8", []byte("Signal=\r\n"))
	f.Add("", []byte("="))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		d, r := InfoDigit(ct, body)
		switch {
		case r == nil:
			if d != 0 && !d.Valid() {
				t.Fatalf("digit %q", byte(d))
			}
		case r.Status == 400 || r.Status == 415:
			if d != 0 {
				t.Fatalf("digit %q with %d", byte(d), r.Status)
			}
		default:
			t.Fatalf("status %d", r.Status)
		}
	})
}
