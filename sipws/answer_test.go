package sipws

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestNewResponseReasonIsPrintable: an error's text in a reason phrase (a 400's "Bad Request
// (...)") cannot break the status line of an answer over WebSocket (sipua.Reason).
func TestNewResponseReasonIsPrintable(t *testing.T) {
	m, err := sip.ParseMessage([]byte("INFO sip:room@confd.invalid SIP/2.0\r\nVia: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK1\r\n" +
		"From: <sip:a@confd.invalid>;tag=1\r\nTo: <sip:room@confd.invalid>;tag=2\r\nCall-ID: c1\r\nCSeq: 2 INFO\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	req := m.(*sip.Request)
	line, _, _ := strings.Cut(newResponse(req, 400, "Bad Request (a\r\nInjected: 1)").String(), "\r\n")
	if line != "SIP/2.0 400 Bad Request (a  Injected: 1)" {
		t.Fatalf("status line %q", line)
	}
}
