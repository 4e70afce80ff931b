package guard

import (
	"errors"
	"testing"
)

func TestDialAllowNumbersAndHosts(t *testing.T) {
	for _, tc := range []struct {
		allow      []string
		user, host string
		want       bool
	}{
		{nil, "anything", "anywhere.example", true},
		{[]string{"+4420"}, "+4420555", "anywhere.example", true},
		{[]string{"+4420"}, "+4431555", "trunk.example", false},
		{[]string{"trunk.example"}, "bob", "Trunk.Example", true},
		{[]string{"trunk.example"}, "bob", "evil.example", false},
		{[]string{"+4420", "trunk.example"}, "+4420555", "evil.example", false},
		{[]string{"+4420", "trunk.example"}, "bob", "trunk.example", false},
		{[]string{"+4420", "00", "trunk.example"}, "0044", "trunk.example", true},
		{[]string{"*21#"}, "*21#5", "x.example", true},
		// IP literals: an IPv6 host as sipgo gives it, in brackets, or written another way.
		{[]string{"192.0.2.7"}, "bob", "192.0.2.7", true},
		{[]string{"192.0.2.7"}, "bob", "192.0.2.8", false},
		{[]string{"2001:db8::1"}, "bob", "[2001:db8::1]", true},
		{[]string{"[2001:db8::1]"}, "bob", "[2001:0db8:0::1]", true},
		{[]string{"2001:db8::1"}, "bob", "[2001:db8::2]", false},
		{[]string{"::ffff:192.0.2.7"}, "bob", "192.0.2.7", true},
	} {
		a, err := ParseDialAllow(tc.allow)
		if err != nil {
			t.Errorf("allow %q: %v", tc.allow, err)
			continue
		}
		if got := a.Allows(tc.user, tc.host); got != tc.want {
			t.Errorf("allow %q, %s@%s: %v, want %v", tc.allow, tc.user, tc.host, got, tc.want)
		}
	}
}

// TestDialAllowRefusesWhatIsNeither: an entry is a number or a host, never silently the other
// ("1-800" is a number written with a dash, not a host nobody has).
func TestDialAllowRefusesWhatIsNeither(t *testing.T) {
	for _, bad := range []string{"", "1-800", "+1 800", "555.0100", "(0)20", "sip:x@y", "bob@host.example",
		"host.example:5060", "host;transport=tcp", "-bad.example", "a..example", "fe80::1%eth0", "[::1", "::1]", "+"} {
		if _, err := ParseDialAllow([]string{bad}); !errors.Is(err, ErrBadDialAllow) {
			t.Errorf("%q: %v, want ErrBadDialAllow", bad, err)
		}
	}
}

// TestIsHost (red team, issue 14): a URI's host is a name or an IP address, nothing a second
// parser could read another host out of.
func TestIsHost(t *testing.T) {
	for _, h := range []string{"pbx", "pbx.example", "pbx.example.", "sip-1.example", "192.0.2.7", "[2001:db8::1]", "2001:db8::1"} {
		if !IsHost(h) {
			t.Errorf("IsHost(%q) = false", h)
		}
	}
	for _, h := range []string{"", ".", "pbx@evil.example", "pbx,evil", `pbx\evil`, "pbx%2eevil", "pbx/x", "-pbx", "pbx..example", "[2001:db8::1", "pbx example"} {
		if IsHost(h) {
			t.Errorf("IsHost(%q) = true", h)
		}
	}
}
