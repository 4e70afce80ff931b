package baresip

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
)

// SIP ports are drawn from below Linux's ephemeral range (32768 and up) and above confd's
// default RTP range (20000-30000), so they rarely meet another socket; a port that is taken
// anyway is caught by the bind check here or by baresip's own bind, and Start tries again.
const (
	sipPortLow  = 30100
	sipPortHigh = 32700
)

// freeSIPPort returns an even port P such that UDP P, TCP P and TCP P+1 (baresip's TLS
// listener) can be bound on loopback right now.
func freeSIPPort() (int, error) {
	for range 200 {
		p := sipPortLow + 2*rand.IntN((sipPortHigh-sipPortLow)/2)
		if portsFree(p) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("baresip: no free SIP port pair in %d-%d", sipPortLow, sipPortHigh)
}

func portsFree(p int) bool {
	addr := func(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
	u, err := net.ListenPacket("udp", addr(p))
	if err != nil {
		return false
	}
	defer u.Close()
	for _, port := range []int{p, p + 1} {
		l, err := net.Listen("tcp", addr(port))
		if err != nil {
			return false
		}
		defer l.Close()
	}
	return true
}

// freeTCPPort asks the kernel for a free loopback TCP port.
func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
