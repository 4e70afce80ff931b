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
