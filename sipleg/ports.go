package sipleg

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
)

// PortAllocator hands out RTP port pairs from the -rtp range: an even RTP port and RTCP on the
// next odd port, as RFC 3550 section 11 recommends (and RFC 3605 lets SDP assume when no a=rtcp
// line is written). Pairs are picked at random (math/rand/v2, randomly seeded), so the port of
// the next call cannot be told from the last one's: a stranger who wants to race a caller to
// its port (see MediaSocket) has to find it among every free pair of the range, and a late
// packet of an ended call rarely reaches a new one.
//
// It is safe for concurrent use.
type PortAllocator struct {
	bind      netip.Addr
	low, high int // even low, inclusive high

	mu    sync.Mutex
	inUse map[int]bool
}

// NewPortAllocator returns an allocator for the inclusive UDP range low-high, binding sockets
// on bind (the zero Addr binds every interface). The range must hold at least one even port
// whose successor is also in range.
func NewPortAllocator(low, high int, bind netip.Addr) (*PortAllocator, error) {
	if low%2 == 1 {
		low++
	}
	if low < 1 || high > 65535 || low+1 > high {
		return nil, fmt.Errorf("%w: %d-%d", ErrBadPortRange, low, high)
	}
	return &PortAllocator{bind: bind, low: low, high: high, inUse: make(map[int]bool)}, nil
}

// InUse returns how many port pairs are allocated now.
func (a *PortAllocator) InUse() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.inUse)
}

// Open binds a free port pair picked at random and returns it as a MediaSocket, or ErrNoPorts.
// Closing the MediaSocket gives the pair back.
func (a *PortAllocator) Open() (*MediaSocket, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	pairs := (a.high - a.low + 1) / 2
	// A random start and a random stride coprime with the number of pairs visit every pair
	// once in an order that cannot be predicted, skipping those in use or bound elsewhere.
	start, stride := rand.IntN(pairs), randomCoprime(pairs)
	for i := range pairs {
		port := a.low + 2*((start+i*stride)%pairs)
		if a.inUse[port] {
			continue
		}
		rtpConn, err := a.listen(port)
		if err != nil {
			continue // taken by another process: try another pair
		}
		rtcpConn, err := a.listen(port + 1)
		if err != nil {
			rtpConn.Close()
			continue
		}
		a.inUse[port] = true
		return newMediaSocket(port, rtpConn, rtcpConn, func() { a.release(port) })
	}
	return nil, fmt.Errorf("%w in %d-%d (%d in use)", ErrNoPorts, a.low, a.high, len(a.inUse))
}

// randomCoprime returns a random number in 1..n-1 that shares no factor with n (1 for n ≤ 2).
func randomCoprime(n int) int {
	for range 32 {
		if k := 1 + rand.IntN(max(n-1, 1)); gcd(k, n) == 1 {
			return k
		}
	}
	return 1
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func (a *PortAllocator) listen(port int) (*net.UDPConn, error) {
	// udp4: the non-blocking send writes IPv4 socket addresses, which a dual-stack socket
	// would refuse.
	bind := a.bind
	if !bind.IsValid() {
		bind = netip.IPv4Unspecified()
	}
	return net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(bind, uint16(port))))
}

func (a *PortAllocator) release(port int) {
	a.mu.Lock()
	delete(a.inUse, port)
	a.mu.Unlock()
}
