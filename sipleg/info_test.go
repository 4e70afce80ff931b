package sipleg

import (
	"testing"

	"confd/dtmf"
)

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
		d, status, reason := infoDigit(c.ct, []byte(c.body))
		if d != c.digit || status != c.status || reason == "" {
			t.Errorf("%q %q: got %q %d %q, want %q %d", c.ct, c.body, d, status, reason, c.digit, c.status)
		}
	}
}

// FuzzParseInfoDTMF: no body or content type makes the INFO path panic; the answer is always
// 200, 400 or 415, and a digit comes only with a 200 and is always a DTMF key.
func FuzzParseInfoDTMF(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf", []byte("#"))
	f.Add("application/dtmf-relay; charset=utf-8", []byte("Signal=\r\n"))
	f.Add("", []byte("="))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		d, status, _ := infoDigit(ct, body)
		switch status {
		case 200:
			if d != 0 && !d.Valid() {
				t.Fatalf("digit %q", byte(d))
			}
		case 400, 415:
			if d != 0 {
				t.Fatalf("digit %q with %d", byte(d), status)
			}
		default:
			t.Fatalf("status %d", status)
		}
	})
}
