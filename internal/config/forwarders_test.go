package config

import (
	"net/netip"
	"testing"
)

// TestForwarderAllowList: the allow list's forms, what each lets through, and the entries that
// are refused at start with the setting named.
func TestForwarderAllowList(t *testing.T) {
	f := Forwarders{Allow: []string{"127.0.0.1", "10.0.0.0/8:5000-6000", "192.0.2.7:5004", "[::1]:4000-4001", "[2001:db8::/32]"}}
	if err := f.validate(); err != nil {
		t.Fatal(err)
	}
	dests, _ := f.Destinations()
	allowed := func(s string) bool {
		ap := netip.MustParseAddrPort(s)
		for _, d := range dests {
			if d.Contains(ap) {
				return true
			}
		}
		return false
	}
	for s, want := range map[string]bool{
		"127.0.0.1:1": true, "127.0.0.1:65535": true, "127.0.0.2:5004": false,
		"10.1.2.3:5000": true, "10.1.2.3:6000": true, "10.1.2.3:6001": false, "11.0.0.1:5500": false,
		"192.0.2.7:5004": true, "192.0.2.7:5005": false,
		"[::1]:4001": true, "[::1]:4002": false, "[2001:db8::9]:80": true,
	} {
		if got := allowed(s); got != want {
			t.Errorf("%s allowed %v, want %v", s, got, want)
		}
	}
	for _, bad := range []string{"", "example.com", "10.0.0.0/33", "10.0.0.0/8:0", "10.0.0.0/8:6000-5000", "10.0.0.1:x", "[::1", "[::1]x"} {
		if err := (Forwarders{Allow: []string{bad}}).validate(); err == nil {
			t.Errorf("allow %q accepted", bad)
		}
	}
	if err := (Forwarders{PerRoom: -1}).validate(); err == nil {
		t.Error("negative per_room accepted")
	}
}

// TestForwarderAllowListEdges (red team, issue 13): an entry means what it says or is refused
// at start. A colon with no port after it ("10.0.0.1:") was read as every port; it is
// refused. An IPv4-mapped IPv6 entry ("::ffff:10.0.0.1", "[::ffff:10.0.0.0/104]:5004") never
// matched anything, since destinations are compared unmapped; it now means its IPv4 address
// or prefix. A zone is refused.
func TestForwarderAllowListEdges(t *testing.T) {
	for _, bad := range []string{"10.0.0.1:", "10.0.0.0/8:", "[::1]:", "10.0.0.1:-", "10.0.0.1:5000-", "fe80::1%eth0", "[fe80::1%eth0]:5004",
		"10.0.0.1: 5004", " 10.0.0.1", "10.0.0.0/8:5000-6000-7000"} {
		if err := (Forwarders{Allow: []string{bad}}).validate(); err == nil {
			d, _ := parseForwardDest(bad)
			t.Errorf("allow %q accepted as %+v", bad, d)
		}
	}
	for entry, dest := range map[string]string{
		"::ffff:10.0.0.1":            "10.0.0.1:5004",
		"[::ffff:10.0.0.0/104]:5004": "10.9.9.9:5004",
		"[::ffff:10.0.0.1]:5004":     "10.0.0.1:5004",
	} {
		d, err := parseForwardDest(entry)
		if err != nil {
			t.Errorf("allow %q: %v", entry, err)
			continue
		}
		if !d.Contains(netip.MustParseAddrPort(dest)) {
			t.Errorf("allow %q (%v) does not let %s through", entry, d.Prefix, dest)
		}
		if d.Contains(netip.MustParseAddrPort("11.0.0.1:5004")) {
			t.Errorf("allow %q (%v) lets 11.0.0.1 through", entry, d.Prefix)
		}
	}
}
