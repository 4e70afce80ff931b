package sipleg

import "testing"

func TestParseInfoDTMF(t *testing.T) {
	cases := []struct {
		ct, body string
		want     byte
		err      bool
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', false},
		{"application/dtmf-relay", "Signal= 10\r\nDuration=160", '*', false},
		{"application/dtmf-relay", "signal=11", '#', false},
		{"application/dtmf", "7", '7', false},
		{"application/dtmf", "a", 'A', false},
		{"application/dtmf", "", 0, false}, // keep-alive INFO
		{"application/dtmf", "x", 0, true},
		{"text/plain", "5", 0, true},
	}
	for _, c := range cases {
		got, err := parseInfoDTMF(c.ct, []byte(c.body))
		if got != c.want || (err != nil) != c.err {
			t.Errorf("%s %q: got %q, %v", c.ct, c.body, got, err)
		}
	}
}

// FuzzParseInfoDTMF: no body or content type makes the INFO path panic, and a digit it
// returns is always a DTMF digit.
func FuzzParseInfoDTMF(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf", []byte("#"))
	f.Add("application/dtmf-relay; charset=utf-8", []byte("Signal=\r\n"))
	f.Add("", []byte("="))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		d, err := parseInfoDTMF(ct, body)
		if err == nil && d != 0 {
			if _, ok := eventDigitOf(d); !ok {
				t.Fatalf("digit %q", d)
			}
		}
	})
}

func eventDigitOf(d byte) (byte, bool) {
	for e := byte(0); e <= 15; e++ {
		if x, _ := eventDigit(e); x == d {
			return e, true
		}
	}
	return 0, false
}
