package sipleg

import (
	"testing"

	"confd/bridge"
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

// TestCensusOnlyFromACascade: a census INFO (bridge/census.go) in an ordinary call's dialog is
// answered 415 and changes nothing; only a cascade leg's dialog takes it.
func TestCensusOnlyFromACascade(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, map[string]bridge.RoomSettings{"4242": {WaitForModerator: true}})
	p := dialRawPhone(t, ts, "4242", 700)
	if code := p.d.infoBody(CensusContentType, `{"people":5,"moderators":5}`); code != 415 {
		t.Errorf("a census INFO from a phone answered %d, want 415", code)
	}
	st, err := ts.bridge.RoomState("4242")
	if err != nil || len(st.Participants) != 1 || !st.Participants[0].Waiting {
		t.Errorf("after a phone's census INFO: %+v, %v; want the phone still waiting for a moderator", st.Participants, err)
	}
}
