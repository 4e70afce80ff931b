package sipua

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func testRequest(t *testing.T, method string) *sip.Request {
	t.Helper()
	raw := method + " sip:room@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n" +
		"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:room@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 " + method +
		"\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	m, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return m.(*sip.Request)
}

// An error's text put into a reason phrase cannot break the status line: every answer built
// with Response is one line of printable text, as TextResponse's are.
func TestResponseReasonIsPrintable(t *testing.T) {
	req := testRequest(t, "INFO")
	res := Response(req, 400, "Bad Request (x\r\nInjected: yes\x00\x7f)", nil, sip.NewHeader("Accept", "a/b"))
	line, _, _ := strings.Cut(res.String(), "\r\n")
	if want := "SIP/2.0 400 Bad Request (x  Injected: yes  )"; line != want {
		t.Fatalf("status line %q, want %q", line, want)
	}
	if strings.Contains(res.String(), "Injected: yes\r\n") {
		t.Fatal("a header was injected through the reason phrase")
	}
	if res.GetHeader("Accept") == nil || res.GetHeader("Server") == nil {
		t.Fatalf("headers missing:\n%s", res)
	}
	if got := Reason("Not Found\t(x)"); got != "Not Found (x)" {
		t.Fatalf("Reason = %q", got)
	}
}

// RFC 3261 section 21.5.2 and 21.4.6: a method confd knows but does not serve is 405 with
// Allow; one it has never heard of is 501.
func TestMethodRefusal(t *testing.T) {
	for _, tc := range []struct {
		method string
		status int
	}{
		{"MESSAGE", 405}, {"SUBSCRIBE", 405}, {"NOTIFY", 405}, {"REFER", 405}, {"PRACK", 405},
		{"UPDATE", 405}, {"PUBLISH", 405}, {"REGISTER", 405}, {"INFO", 405}, {"INVITE", 405},
		{"FROBNICATE", 501}, {"RE%47IST%45R", 501}, {"register", 501},
	} {
		r := MethodRefusal(sip.RequestMethod(tc.method), "INVITE, ACK")
		if r.Status != tc.status {
			t.Errorf("%s: %d, want %d", tc.method, r.Status, tc.status)
		}
		var allow string
		for _, h := range r.Headers {
			if h.Name() == "Allow" {
				allow = h.Value()
			}
		}
		if allow != "INVITE, ACK" {
			t.Errorf("%s: Allow %q", tc.method, allow)
		}
	}
}
