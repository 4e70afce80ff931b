package sipleg

import (
	"strings"
	"testing"
)

// TestMethodAnswers: a method SIP defines that sipleg does not serve is answered 405, one SIP
// does not define 501 (RFC 3261 section 21.5.2), both with Allow, as over WebSocket
// (sipua.MethodRefusal).
func TestMethodAnswers(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, nil)
	c := newRawClient(t, "udp", ts)
	for _, tc := range []struct {
		method string
		status int
	}{{"MESSAGE", 405}, {"SUBSCRIBE", 405}, {"FROBNICATE", 501}} {
		d := c.newDialog()
		res := d.request(tc.method, "room", "")
		if res.StatusCode != tc.status {
			t.Errorf("%s answered %d %s, want %d", tc.method, res.StatusCode, res.Reason, tc.status)
		}
		if res.GetHeader("Allow") == nil {
			t.Errorf("%s: %d without Allow", tc.method, res.StatusCode)
		}
	}
}

// TestReasonPhraseIsPrintable: an offer whose text lands in the reason phrase of the refusal
// (here an unknown transport profile with a control character in it) gets a reason of
// printable text only, on the stateful path as on the stateless one (sipua.Reason).
func TestReasonPhraseIsPrintable(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, nil)
	_, d, port := newCaller(t, ts)
	res := d.request("INVITE", "room", sdpOffer(port, 1, "m=audio PORT RTP/\x01AV\x7fP 0\r\na=rtpmap:0 PCMU/8000\r\n"))
	if res.StatusCode < 400 {
		t.Fatalf("answered %d %s", res.StatusCode, res.Reason)
	}
	if strings.ContainsFunc(res.Reason, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		t.Fatalf("reason phrase %q carries control characters", res.Reason)
	}
	if !strings.Contains(res.Reason, "RTP/ AV P") {
		t.Fatalf("reason phrase %q does not name the profile", res.Reason)
	}
}
