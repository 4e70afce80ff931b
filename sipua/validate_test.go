package sipua

import (
	"errors"
	"net/netip"
	"strconv"
	"testing"

	"github.com/emiago/sipgo/sip"

	"confd/bridge"
	"confd/internal/guard"
	"confd/sipdigest"
)

func request(method, uri, extra, body string) []byte {
	return []byte(method + " " + uri + " SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKv1\r\n" +
		"From: <sip:a@example.com>;tag=1\r\nTo: <sip:room@confd>\r\nCall-ID: v1\r\nCSeq: 1 " + method + "\r\n" +
		"Max-Forwards: 70\r\n" + extra + "Content-Length: " + itoa(len(body)) + "\r\n\r\n" + body)
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestValidatorRules: the rules on which the two legs' validators used to differ are one now.
func TestValidatorRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		tags []string
		raw  []byte
		want int
	}{
		{"fine", nil, request("OPTIONS", "sip:room@confd", "", ""), 0},
		{"tel scheme", nil, request("OPTIONS", "tel:+15550100", "", ""), 416},
		{"timer required, not implemented", nil, request("OPTIONS", "sip:room@confd", "Require: timer\r\n", ""), 420},
		{"timer required, implemented", []string{"timer"}, request("OPTIONS", "sip:room@confd", "Require: timer\r\n", ""), 0},
		{"two Call-IDs", nil, request("OPTIONS", "sip:room@confd", "Call-ID: v2\r\n", ""), 400},
		{"bad Date", nil, request("OPTIONS", "sip:room@confd", "Date: yesterday\r\n", ""), 400},
		{"UPDATE body not SDP", nil, request("UPDATE", "sip:room@confd", "Content-Type: text/plain\r\n", "hi"), 415},
		{"Accept without SDP", nil, request("INVITE", "sip:room@confd", "Accept: text/plain\r\n", ""), 406},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, r := NewValidator(tc.tags...).Check(tc.raw)
			switch {
			case tc.want == 0 && r != nil:
				t.Fatalf("refused %v", r)
			case tc.want != 0 && (r == nil || r.Status != tc.want):
				t.Fatalf("refusal %v, want %d", r, tc.want)
			}
		})
	}
}

// TestACKIsNeverAnswered: an ACK the validator refuses is dropped (RFC 3261 section 17.1.1.1).
func TestACKIsNeverAnswered(t *testing.T) {
	raw := request("ACK", "sip:room@confd", "Content-Type: text/plain\r\n", "hi")
	_, r := NewValidator().Check(raw)
	if r == nil || r.Status != 415 {
		t.Fatalf("refusal %v", r)
	}
	if a := r.Answer(raw); a != nil {
		t.Fatalf("ACK answered %q", a)
	}
}

func TestAuthorize(t *testing.T) {
	m, err := sip.ParseMessage(request("INVITE", "sip:room@confd", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	req := m.(*sip.Request)
	trunks := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	open := NewAuth(AuthConfig{}, nil)
	noUsers := NewAuth(AuthConfig{Restrict: true, Trunks: trunks}, nil)
	users := NewAuth(AuthConfig{Restrict: true, Trunks: trunks, Users: []sipdigest.User{{Name: "ada", Password: "pw"}}}, nil)
	for _, tc := range []struct {
		name   string
		a      *Auth
		remote string
		want   int
	}{
		{"open", open, "198.51.100.1:5060", 0},
		{"trunk", noUsers, "192.0.2.7:5060", 0},
		{"mapped trunk", noUsers, "[::ffff:192.0.2.7]:5060", 0},
		{"restricted, no users", noUsers, "198.51.100.1:5060", 403},
		{"restricted, users", users, "198.51.100.1:5060", 401},
	} {
		r := tc.a.Authorize(req, tc.remote)
		if got := 0; r != nil {
			got = r.Status
			if got != tc.want {
				t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
			}
			if got == 401 && len(r.Headers) == 0 {
				t.Errorf("%s: 401 without a challenge", tc.name)
			}
		} else if tc.want != 0 {
			t.Errorf("%s: admitted, want %d", tc.name, tc.want)
		}
	}
}

func TestRefusalOf(t *testing.T) {
	g := &Gate{RetryAfter: 60}
	if r := g.RefusalOf(bridge.ErrDraining); r.Status != 503 || len(r.Headers) != 1 || r.Headers[0].Value() != "60" {
		t.Errorf("draining: %+v", r)
	}
	if r := g.RefusalOf(bridge.ErrRoomFull); r.Status != 486 || len(r.Headers) != 0 {
		t.Errorf("full: %+v", r)
	}
	locked := &guard.Refusal{Err: guard.ErrLockedOut, RetryAfter: 30e9}
	if r := g.RefusalOf(locked); r.Status != 403 || len(r.Headers) != 1 || r.Headers[0].Value() != "30" {
		t.Errorf("locked out: %+v", r)
	}
	if r := g.RefusalOf(errors.New("other")); r.Status != 500 {
		t.Errorf("other: %+v", r)
	}
	g.Drain()
	if r := g.Open(); r == nil || r.Status != 503 {
		t.Errorf("Open while draining: %+v", r)
	}
}
