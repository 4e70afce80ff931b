package sipleg

import (
	"errors"
	"testing"

	"github.com/emiago/sipgo/sip"

	"confd/internal/guard"
)

// TestDialOutAllowReadsLikeTheConfig: the SIP leg reads DialOut.Allow by the config file's rule
// (guard.ParseDialAllow): an IPv6 host may be allowed, and an entry that is neither a number nor
// a host stops the server at start instead of becoming a host nobody has.
func TestDialOutAllowReadsLikeTheConfig(t *testing.T) {
	p, err := newDialPolicy(DialOut{Allow: []string{"2001:db8::1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.admit(sip.Uri{Scheme: "sip", User: "bob", Host: "[2001:db8::1]"}); err != nil {
		t.Errorf("IPv6 host listed: %v", err)
	}
	if err := p.admit(sip.Uri{Scheme: "sip", User: "bob", Host: "[2001:db8::2]"}); !errors.Is(err, ErrDialNotAllowed) {
		t.Errorf("IPv6 host not listed: %v, want ErrDialNotAllowed", err)
	}
	if _, err := newDialPolicy(DialOut{Allow: []string{"1-800"}}); !errors.Is(err, guard.ErrBadDialAllow) {
		t.Errorf("allow 1-800: %v, want guard.ErrBadDialAllow", err)
	}
}
