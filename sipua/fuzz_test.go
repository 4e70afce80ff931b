package sipua

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// FuzzValidatorCheck (red team, issue 13) feeds the one validator both SIP legs use with the
// RFC 4475 torture messages and whatever the fuzzer makes of them. Whatever comes in: no
// panic; a request let through has every mandatory header once; an answer is one response
// sipgo reads back, with the status asked and nothing injected before it.
func FuzzValidatorCheck(f *testing.F) {
	for _, c := range tortureCases {
		if raw, err := os.ReadFile(filepath.Join("testdata", "torture", c.file)); err == nil {
			f.Add(raw)
		}
	}
	f.Add([]byte("INVITE sip:r@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:r@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"))
	v := NewValidator("timer")
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, r := v.Check(raw)
		if r == nil {
			req, ok := m.(*sip.Request)
			if !ok {
				return
			}
			if req.Via() == nil || req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil {
				t.Fatalf("a request without a mandatory header passed: %q", raw)
			}
			return
		}
		if m != nil {
			t.Fatalf("a refused message was returned too: %q", raw)
		}
		ans := r.Answer(raw)
		if ans == nil {
			return
		}
		if !bytes.HasPrefix(ans, []byte("SIP/2.0 ")) || bytes.Count(ans, []byte("\r\n\r\n")) != 1 || !bytes.HasSuffix(ans, []byte("\r\n\r\n")) {
			t.Fatalf("answer %q to %q is not one response", ans, raw)
		}
		res, err := sip.ParseMessage(ans)
		if err != nil {
			t.Fatalf("answer %q to %q does not parse: %v", ans, raw, err)
		}
		if s, ok := res.(*sip.Response); !ok || s.StatusCode != r.Status {
			t.Fatalf("answer %q to %q: want status %d", ans, raw, r.Status)
		}
	})
}

// TestBareLineBreakInTheHeadIsRefused (red team, issue 13): a bare LF (or CR) in a message's
// head is 400. sipgo reads "Call-ID: a\nCall-ID: b" as one Call-ID holding a line break, which
// every answer and in-dialog request would then carry, and the doubled-header rule, which
// counts lines at CRLF, let "From: a\nFrom: b" through with the second one's tag.
func TestBareLineBreakInTheHeadIsRefused(t *testing.T) {
	v := NewValidator("timer")
	good := "INVITE sip:r@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:r@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
	if _, r := v.Check([]byte(good)); r != nil {
		t.Fatalf("a good INVITE refused: %v", r)
	}
	for _, bad := range []struct{ old, new string }{
		{"Call-ID: c\r\n", "Call-ID: c\nCall-ID: d\r\n"},
		{"From: <sip:a@h>;tag=1\r\n", "From: <sip:a@h>;tag=1\nFrom: <sip:b@h>;tag=2\r\n"},
		{"To: <sip:r@h>\r\n", "To: <sip:r@h>\rX-Evil: 1\r\n"},
		{"Content-Length: 0\r\n", "Content-Type: application/sdp\nContent-Type: text/plain\r\nContent-Length: 0\r\n"},
	} {
		raw := []byte(strings.Replace(good, bad.old, bad.new, 1))
		m, r := v.Check(raw)
		if r == nil || r.Status != 400 || m != nil {
			t.Errorf("%q: %v, want 400", bad.new, r)
			continue
		}
		if ans := r.Answer(raw); bareLineEnd(ans) || bytes.Contains(ans, []byte("\r\nCall-ID: d")) || bytes.Contains(ans, []byte("\r\nX-Evil")) {
			t.Errorf("the answer copies the smuggled line as a line: %q", ans)
		}
	}
	// A body may use bare LFs (SDP from some peers does): only the head is held to CRLF.
	sdp := strings.Replace(good, "Content-Length: 0\r\n\r\n", "Content-Type: application/sdp\r\nContent-Length: 10\r\n\r\nv=0\no=- x\n", 1)
	if _, r := v.Check([]byte(sdp)); r != nil {
		t.Errorf("a body with bare LFs refused: %v", r)
	}
}
