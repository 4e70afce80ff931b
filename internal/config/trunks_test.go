package config

import (
	"net/netip"
	"slices"
	"testing"
)

// TestTrunksReadLikeDestinations: security.trunks is read by guard.ParsePrefix, as
// forwarders.allow is: an IPv4-mapped prefix means its IPv4 prefix (it validated, then never
// matched a caller, since sources are compared unmapped), a zone is refused.
func TestTrunksReadLikeDestinations(t *testing.T) {
	s := Security{Trunks: []string{"::ffff:10.0.0.0/104", "192.0.2.9", "198.51.100.0/24"}}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.9/32"), netip.MustParsePrefix("198.51.100.0/24")}
	if got := s.TrunkPrefixes(); !slices.Equal(got, want) {
		t.Errorf("TrunkPrefixes = %v, want %v", got, want)
	}
	for _, bad := range []string{"fe80::1%eth0", "::ffff:10.0.0.0/64", "pbx.example"} {
		c := Default()
		c.Security.Trunks = []string{bad}
		if err := c.Validate(); err == nil {
			t.Errorf("security.trunks %q validated", bad)
		}
	}
}
