package sipleg

import (
	"net/netip"
	"testing"
)

// TestSDPAddressReachesThePeer: with no -public-ip and a listener on every interface, SDP carries
// the address of the interface that reaches the caller (docs/SPEC.md "Start": -public-ip default).
func TestSDPAddressReachesThePeer(t *testing.T) {
	any := netip.IPv4Unspecified()
	s := &Server{}
	if got := s.addrFor(any, "127.0.0.1:5060"); got != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("loopback caller: SDP address %v, want 127.0.0.1", got)
	}
	if got := s.addrFor(netip.MustParseAddr("127.0.0.2"), "127.0.0.1:5060"); got != netip.MustParseAddr("127.0.0.2") {
		t.Errorf("specific listener: %v, want it", got)
	}
	s.cfg.PublicIP = netip.MustParseAddr("203.0.113.9")
	if got := s.addrFor(any, "127.0.0.1:5060"); got != s.cfg.PublicIP {
		t.Errorf("-public-ip: %v, want it", got)
	}
	s.cfg.PublicIP = netip.Addr{}
	if got := s.addrFor(any, ""); !got.IsValid() || got.IsUnspecified() {
		t.Errorf("no peer: %v, want a usable address", got)
	}
}
