package testkit

import (
	"errors"
	"net"
	"strconv"
	"sync/atomic"
)

// ErrNoFreePort means no loopback port was free for both UDP and TCP after many tries.
var ErrNoFreePort = errors.New("testkit: no port free for both UDP and TCP")

// FreePort returns a port that is free on 127.0.0.1 for both UDP and TCP right now, as confd's
// -sip (which listens on both) needs. The kernel picks it from its ephemeral range, above every
// RTP block of PortBlocks.
func FreePort() (int, error) {
	for range 50 {
		u, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		u.Close()
		if err == nil {
			l.Close()
			return port, nil
		}
	}
	return 0, ErrNoFreePort
}

// MustFreePort is FreePort that fails the test when no port is free.
func MustFreePort(t TB) int {
	t.Helper()
	return must(t, FreePort)
}

// PortBlocks hands out RTP port ranges in turn from one test package's share, so that daemons
// running at once in that package never share a port. Each test package has a share of its own
// (e2e 20000-29999, cmd/confd 32000-35999, e2e/phones 36000-39999; baresip takes 40000-49999),
// so that packages running at once never meet either.
type PortBlocks struct {
	// Low is the first port of the share, Size the ports in a block, Count the blocks in the
	// share: the share is Low to Low+Size·Count-1.
	Low, Size, Count int
	n                atomic.Int32
}

// Next returns the first and last port of the next block; after the last block comes the first.
func (b *PortBlocks) Next() (low, high int) {
	low = b.Low + b.Size*int(b.n.Add(1)%int32(b.Count))
	return low, low + b.Size - 1
}

// Range is Next as confd's -rtp flag takes it, "LOW-HIGH".
func (b *PortBlocks) Range() string {
	low, high := b.Next()
	return strconv.Itoa(low) + "-" + strconv.Itoa(high)
}
