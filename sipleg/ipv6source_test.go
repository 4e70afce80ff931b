package sipleg

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"confd/sipua"
)

// startServerOnIPv6 is startServer on a UDP listener at [::1], for the tests of a source known
// by its IPv6 address; it skips where the machine has no IPv6 loopback.
func startServerOnIPv6(t *testing.T, cfg Config) *testServer {
	t.Helper()
	udp, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	return serveOn(t, cfg, nil, udp, nil)
}

// ipv6Client is a raw UDP client at [::1].
func ipv6Client(t *testing.T, ts *testServer) *rawClient {
	u, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	t.Cleanup(func() { u.Close() })
	return &rawClient{t: t, network: "udp", udp: u, srv: net.UDPAddrFromAddrPort(ts.Addr()), buf: make([]byte, 65536)}
}

// TestIPv6TrunkIsExemptFromCallLimits: a trunk listed as one IPv6 address (a /128) is exempt
// from the per-source call limits. The INVITE path folded the caller's address to its /64
// before the exemption was looked up, so "::1/128" never matched "::" and the trunk's second
// call was refused 503 like a flooding phone's.
func TestIPv6TrunkIsExemptFromCallLimits(t *testing.T) {
	t.Parallel()
	trunk := netip.MustParsePrefix("::1/128")
	ts := startServerOnIPv6(t, Config{Auth: sipua.AuthConfig{Trunks: []netip.Prefix{trunk}},
		Limits: Limits{InviteRate: 1000, RequestRate: 10000, CallsPerSource: 1, PendingPerSource: 1}})
	c := ipv6Client(t, ts)
	_, port := callerMedia(t)
	for i := range 3 {
		if res := c.newDialog().request("INVITE", "trunked", sdpOffer(port, 1, pcmuAudio)); res.StatusCode != 200 {
			t.Fatalf("call %d from the IPv6 trunk: %d %s", i+1, res.StatusCode, res.Reason)
		}
	}
}

// TestIPv6CascadeNodeIsKnownByItsAddress: a cascade INVITE is checked against the calling
// node's configured address as it came, not folded to its /64 (every cascade between IPv6
// nodes was refused 403).
func TestIPv6CascadeNodeIsKnownByItsAddress(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var asked []netip.Addr
	ts := startServerOnIPv6(t, Config{Cascade: func(src netip.Addr, node string) bool {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, src)
		return false
	}})
	c := ipv6Client(t, ts)
	_, port := callerMedia(t)
	d := c.newDialog()
	d.hdrs = CascadeHeader + ": node-b\r\n"
	if res := d.request("INVITE", "room", sdpOffer(port, 1, pcmuAudio)); res.StatusCode != 403 {
		t.Fatalf("cascade from a node the check refuses: %d, want 403", res.StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 1 || asked[0] != netip.IPv6Loopback() {
		t.Fatalf("the cascade check was asked about %v, want [::1]", asked)
	}
}

// TestTCPConnectionsCountPerIPv6Prefix: the SIP/TCP connection cap counts an IPv6 source by
// its /64, as every other per-source limit does (one host holds a whole /64); it counted each
// address, so one /64 could hold TCPConnsPerSource connections from each of its addresses. A
// trunk listed as one address is not counted.
func TestTCPConnectionsCountPerIPv6Prefix(t *testing.T) {
	trunk := netip.MustParsePrefix("2001:db8:1:2::7/128")
	l := newValidatingListener(nil, nil, Limits{TCPConnsPerSource: 1}.WithDefaults(), []netip.Prefix{trunk})
	now := time.Now()
	if err := l.conns.Acquire(netip.MustParseAddr("2001:db8:1:2::1"), now); err != nil {
		t.Fatal(err)
	}
	if err := l.conns.Acquire(netip.MustParseAddr("2001:db8:1:2::2"), now); err == nil {
		t.Error("a second address of the same /64 got a second connection past a cap of 1")
	}
	if err := l.conns.Acquire(netip.MustParseAddr("2001:db8:1:3::1"), now); err != nil {
		t.Errorf("another /64: %v", err)
	}
	for range 3 {
		if err := l.conns.Acquire(trunk.Addr(), now); err != nil {
			t.Errorf("the trunk, in the full /64: %v", err)
		}
	}
}
