package sipws

import (
	"os"
	"testing"

	"github.com/emiago/sipgo/sip"

	"confd/bridge"
)

// TestTortureMessages is the WebSocket side's smoke test of the RFC 3261 rules it shares with
// sipleg (sipua.Validator, whose every RFC 4475 case sipua's TestTortureMessages
// holds): one message of each kind of refusal, and valid ones its handlers answer (not those with a
// binary body: a text frame must be UTF-8, RFC 6455 section 8.1), each sent
// as one WebSocket message (RFC 7118 section 5).
func TestTortureMessages(t *testing.T) {
	e := newFakeEnv(t, bridge.Config{}, Config{MaxBadMessages: 100})
	c := dialSIP(t, e.url)
	for _, tc := range []struct {
		file string
		want int
	}{
		{"valid/lwsdisp", 200},    // OPTIONS
		{"valid/esc02", 501},      // an unknown method
		{"valid/escnull", 200},    // REGISTER
		{"invalid/badinv01", 400}, // unparsable
		{"invalid/baddate", 400},
		{"invalid/multi01", 400}, // two of a header that must appear once
		{"invalid/badvers", 505},
		{"invalid/unkscm", 416},
		{"invalid/novelsc", 416},
		{"invalid/bext01", 420},
		{"invalid/invut", 415},
		{"invalid/sdp01", 406},
	} {
		raw, err := os.ReadFile("../sipua/testdata/torture/" + tc.file + ".dat")
		if err != nil {
			t.Fatal(err)
		}
		c.send(string(raw))
		res, ok := c.next().(*sip.Response)
		if !ok || res.StatusCode != tc.want {
			t.Errorf("%s: answered %v, want %d", tc.file, res, tc.want)
		}
	}
}
