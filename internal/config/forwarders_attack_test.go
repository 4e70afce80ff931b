package config

import (
	"net/netip"
	"testing"
)

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
