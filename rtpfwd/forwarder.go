package rtpfwd

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"confd/bridge"
)

// Request is the body of POST /api/rooms/ROOM/forwarders.
type Request struct {
	// Host is the destination's IP address (no name is resolved) and Port its UDP port.
	Host string `json:"host"`
	Port int    `json:"port"`
	// Codec is the encoding sent: "PCMU", "PCMA", "G722" or "opus" (any case).
	Codec string `json:"codec"`
	// PayloadType is the RTP payload type written; nil means the codec's static one (0, 8, 9)
	// or 111 for Opus.
	PayloadType *int `json:"payload_type,omitempty"`
	// Participant, when set, is the id of the one participant whose own audio is forwarded;
	// empty forwards the room's mix.
	Participant string `json:"participant,omitempty"`
}

// Info is a forwarder as the API lists it.
type Info struct {
	ID          string    `json:"id"`
	Room        string    `json:"room"`
	Host        string    `json:"host"`
	Port        int       `json:"port"`
	Codec       string    `json:"codec"`
	PayloadType uint8     `json:"payload_type"`
	Participant string    `json:"participant,omitempty"`
	SSRC        uint32    `json:"ssrc"`
	StartedAt   time.Time `json:"started_at"`
	// Packets counts the packets sent and Dropped those a full socket buffer or an ICMP error
	// from the destination kept from leaving.
	Packets uint64 `json:"packets"`
	Dropped uint64 `json:"dropped"`
}

// forwarder is one forwarder: a bridge.Leg that sends what the room's tick hands it to one
// UDP destination.
type forwarder struct {
	m    *Manager
	info Info // fixed at start; the counters are below
	dest netip.AddrPort
	conn *net.UDPConn
	raw  syscall.RawConn
	part *bridge.Participant

	// The packet being written and the write's error: used by the room's goroutine alone,
	// which is the only caller of SendRTP.
	pkt   []byte
	err   error
	write func(fd uintptr) bool

	packets, dropped atomic.Uint64
	stopOnce         sync.Once
}

// dial opens the forwarder's socket, connected to dest, so that a write needs no address and
// the kernel reports the destination's ICMP errors on it.
func (f *forwarder) dial() error {
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(f.dest))
	if err != nil {
		return err
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		conn.Close()
		return err
	}
	f.conn, f.raw = conn, raw
	f.write = f.writeFD
	return nil
}

// writeFD writes the packet with one write(2) on the non-blocking descriptor and never waits:
// Go's UDPConn.Write would park the room's goroutine until the buffer drains.
func (f *forwarder) writeFD(fd uintptr) bool {
	_, f.err = syscall.Write(int(fd), f.pkt)
	return true
}

// SendRTP implements bridge.Leg: one packet from the room's tick, written without blocking
// and without allocating; one that cannot leave now is dropped and counted.
func (f *forwarder) SendRTP(pkt []byte) {
	f.pkt = pkt
	err := f.raw.Write(f.write)
	f.pkt = nil
	if err != nil || f.err != nil {
		f.dropped.Add(1)
		return
	}
	f.packets.Add(1)
}

// Hangup implements bridge.Leg: the bridge ends the forwarder (shutdown).
func (f *forwarder) Hangup(reason string) { go f.m.stop(f, reason) }

// snapshot returns the forwarder's Info with its counters.
func (f *forwarder) snapshot() Info {
	in := f.info
	in.Packets, in.Dropped = f.packets.Load(), f.dropped.Load()
	return in
}
