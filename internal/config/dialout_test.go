package config

import (
	"strings"
	"testing"
)

// TestDialOutAllowIsReadByTheDialRule: the file's allow-list is read by the rule the SIP leg
// dials by (guard.ParseDialAllow): an IPv6 host may be allowed, and a number with a dash is
// refused at start, not taken for a host.
func TestDialOutAllowIsReadByTheDialRule(t *testing.T) {
	c := Default()
	c.Security.DialOut.Allow = []string{"+4420", "sip.provider.example", "2001:db8::1", "[2001:db8::2]", "192.0.2.7"}
	if err := c.Validate(); err != nil {
		t.Errorf("good allow-list refused: %v", err)
	}
	for _, bad := range []string{"1-800", "host.example:5060", "bob@host.example"} {
		c.Security.DialOut.Allow = []string{bad}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "security.dialout.allow") || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v, want security.dialout.allow naming it", bad, err)
		}
	}
}
