package sipleg

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// maxDatagram is the largest media datagram read; anything longer is truncated by the kernel
// and then rejected as malformed.
const maxDatagram = 1500

// MediaSocket is the RTP and RTCP socket pair of one SIP leg (RFC 3550), with the two NAT and
// safety rules every SBC and PBX converged on:
//
//   - Symmetric RTP (RFC 4961): media is sent to the address the remote's media really comes
//     from, learned from its first packet, not to the possibly private address in its SDP.
//   - Strict source: once learned, packets from any other address are dropped and counted.
//     Without this a stranger who guesses the port is mixed into the room or, worse, receives
//     the room's audio (Asterisk's "RTP bleed", CVE-2017-14099).
//
// Sends never block: a packet that does not fit in the socket buffer is dropped and counted,
// so one slow leg cannot delay a room's tick (DESIGN-NOTES "Things that bite").
//
// Reading starts with Start; packets are handed to the callbacks on the reader goroutines,
// which own the buffer: a callback must copy what it keeps.
type MediaSocket struct {
	port      int
	rtp, rtcp *net.UDPConn
	release   func()

	onRTP, onRTCP func(pkt []byte, now time.Time)

	// Destinations from SDP, replaced by the learned sources.
	rtpDest, rtcpDest atomic.Pointer[udpDest]
	// Learned sources; nil until the first packet.
	rtpSource, rtcpSource atomic.Pointer[netip.AddrPort]
	mux                   atomic.Bool
	sending               atomic.Bool
	lastRTP               atomic.Int64 // unix nanoseconds

	rtpOut, rtcpOut nbSender

	stats struct {
		rtpIn, rtcpIn, rtpOut, rtcpOut, sendDrops, strangers, malformed atomic.Uint64
	}

	startOnce, closeOnce sync.Once
	readers              sync.WaitGroup
}

// MediaStats is a snapshot of a MediaSocket's counters.
type MediaStats struct {
	// RTPIn and RTCPIn count accepted packets from the remote.
	RTPIn, RTCPIn uint64
	// RTPOut and RTCPOut count packets handed to the kernel.
	RTPOut, RTCPOut uint64
	// SendDrops counts packets dropped because the socket buffer was full or there was no
	// destination yet (or sending was off: hold).
	SendDrops uint64
	// Strangers counts packets dropped because they came from an address other than the
	// learned one (strict RTP).
	Strangers uint64
	// Malformed counts datagrams that are neither RTP nor RTCP (RFC 5761 section 4).
	Malformed uint64
}

// udpDest is a destination with its socket address converted once, so that sending
// allocates nothing.
type udpDest struct {
	addr netip.AddrPort
	sa   syscall.Sockaddr
}

func newUDPDest(ap netip.AddrPort) *udpDest {
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if !ap.Addr().Is4() || ap.Addr().IsUnspecified() || ap.Port() == 0 {
		return &udpDest{addr: ap} // no usable destination: sends are dropped
	}
	return &udpDest{addr: ap, sa: &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}}
}

// nbSender writes datagrams with MSG_DONTWAIT on the socket's own descriptor: Go's
// net.UDPConn would park the goroutine until the buffer drains, and a write deadline in the
// past fails before even trying. One nbSender serves one sending goroutine at a time.
type nbSender struct {
	mu  sync.Mutex
	raw syscall.RawConn
	pkt []byte
	sa  syscall.Sockaddr
	err error
	fn  func(fd uintptr) bool
}

func (s *nbSender) init(c *net.UDPConn) error {
	raw, err := c.SyscallConn()
	s.raw = raw
	s.fn = s.write
	return err
}

func (s *nbSender) write(fd uintptr) bool {
	s.err = syscall.Sendto(int(fd), s.pkt, syscall.MSG_DONTWAIT, s.sa)
	return true // never wait for writability: a full buffer is a dropped packet
}

func (s *nbSender) send(pkt []byte, d *udpDest) error {
	if d == nil || d.sa == nil {
		return errNoDestination
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pkt, s.sa = pkt, d.sa
	err := s.raw.Write(s.fn)
	s.pkt = nil
	if err != nil {
		return err
	}
	return s.err
}

var errNoDestination = errors.New("sipleg: no media destination")

func newMediaSocket(port int, rtpConn, rtcpConn *net.UDPConn, release func()) (*MediaSocket, error) {
	m := &MediaSocket{port: port, rtp: rtpConn, rtcp: rtcpConn, release: release}
	err1 := m.rtpOut.init(rtpConn)
	err2 := m.rtcpOut.init(rtcpConn)
	if err := errors.Join(err1, err2); err != nil {
		m.Close()
		return nil, err
	}
	m.sending.Store(true)
	return m, nil
}

// Port returns the local RTP port; RTCP is on Port()+1.
func (m *MediaSocket) Port() int { return m.port }

// SetRemote sets where to send RTP and RTCP as the remote's SDP says (sdpneg.Result.Remote,
// RemoteRTCP, RTCPMux). A changed address (a re-INVITE after the remote moved) forgets the
// learned sources so that the new address can be learned; an unchanged one keeps them.
func (m *MediaSocket) SetRemote(rtp, rtcp netip.AddrPort, mux bool) {
	m.mux.Store(mux)
	if old := m.rtpDest.Load(); old == nil || old.addr.Addr() != rtp.Addr().Unmap() || m.rtpSource.Load() == nil {
		m.rtpSource.Store(nil)
		m.rtcpSource.Store(nil)
		m.rtpDest.Store(newUDPDest(rtp))
		if mux {
			rtcp = rtp
		}
		m.rtcpDest.Store(newUDPDest(rtcp))
	}
}

// SetSending turns sending on or off (hold: RFC 3264 section 8.4); while off, SendRTP drops.
func (m *MediaSocket) SetSending(on bool) { m.sending.Store(on) }

// Start begins reading: onRTP gets every RTP packet and onRTCP every RTCP packet accepted from
// the remote, with the arrival time, on the reader goroutines. It is called once; later calls
// do nothing.
func (m *MediaSocket) Start(onRTP, onRTCP func(pkt []byte, now time.Time)) {
	m.startOnce.Do(func() {
		m.onRTP, m.onRTCP = onRTP, onRTCP
		m.readers.Add(2)
		go m.read(m.rtp, false)
		go m.read(m.rtcp, true)
	})
}

func (m *MediaSocket) read(c *net.UDPConn, rtcpPort bool) {
	defer m.readers.Done()
	buf := make([]byte, maxDatagram+1)
	for {
		n, src, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ICMP port unreachable and the like: keep reading
		}
		m.input(buf[:n], src, time.Now(), rtcpPort)
	}
}

// packetKind is what a datagram on a media port is.
type packetKind uint8

const (
	kindInvalid packetKind = iota
	kindRTP
	kindRTCP
)

// classify tells RTP from RTCP as RFC 5761 section 4 does for a muxed port: RTP version 2, and
// a second octet of 192-223 (RTCP packet types 192-223, which RTP payload types avoid) is RTCP.
// Anything shorter than a fixed header is invalid.
func classify(pkt []byte) packetKind {
	if len(pkt) < 8 || pkt[0]>>6 != 2 || len(pkt) > maxDatagram {
		return kindInvalid
	}
	if pkt[1] >= 192 && pkt[1] <= 223 {
		return kindRTCP
	}
	if len(pkt) < 12 {
		return kindInvalid
	}
	return kindRTP
}

// input applies the strict-source rule to one datagram and hands it on.
func (m *MediaSocket) input(pkt []byte, src netip.AddrPort, now time.Time, rtcpPort bool) {
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	kind := classify(pkt)
	if kind == kindInvalid || (rtcpPort && kind != kindRTCP) {
		m.stats.malformed.Add(1)
		return
	}
	learned, dest := &m.rtpSource, &m.rtpDest
	if rtcpPort {
		learned, dest = &m.rtcpSource, &m.rtcpDest
	}
	if l := learned.Load(); l == nil {
		first := src // only the learning branch allocates
		learned.Store(&first)
		dest.Store(newUDPDest(src)) // symmetric RTP: answer where it really comes from
		if !rtcpPort && m.mux.Load() {
			m.rtcpDest.Store(newUDPDest(src))
		}
	} else if *l != src {
		m.stats.strangers.Add(1)
		return
	}
	if kind == kindRTCP {
		m.stats.rtcpIn.Add(1)
		if m.onRTCP != nil {
			m.onRTCP(pkt, now)
		}
		return
	}
	m.stats.rtpIn.Add(1)
	m.lastRTP.Store(now.UnixNano())
	if m.onRTP != nil {
		m.onRTP(pkt, now)
	}
}

// SendRTP sends one RTP packet to the remote without blocking; a packet that cannot be sent
// now (full buffer, no destination, hold) is dropped and counted. It allocates nothing.
func (m *MediaSocket) SendRTP(pkt []byte) {
	if !m.sending.Load() {
		m.stats.sendDrops.Add(1)
		return
	}
	if m.rtpOut.send(pkt, m.rtpDest.Load()) != nil {
		m.stats.sendDrops.Add(1)
		return
	}
	m.stats.rtpOut.Add(1)
}

// SendRTCP sends one RTCP compound packet to the remote's RTCP address without blocking, and
// reports whether it went out. With rtcp-mux it leaves from the RTP socket, as RFC 5761
// section 5.1.3 requires.
func (m *MediaSocket) SendRTCP(pkt []byte) bool {
	out := &m.rtcpOut
	if m.mux.Load() {
		out = &m.rtpOut
	}
	if out.send(pkt, m.rtcpDest.Load()) != nil {
		m.stats.sendDrops.Add(1)
		return false
	}
	m.stats.rtcpOut.Add(1)
	return true
}

// LastRTP returns when the last accepted RTP packet arrived, or the zero Time if none did.
func (m *MediaSocket) LastRTP() time.Time {
	n := m.lastRTP.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Source returns the learned RTP source, if any.
func (m *MediaSocket) Source() (netip.AddrPort, bool) {
	if s := m.rtpSource.Load(); s != nil {
		return *s, true
	}
	return netip.AddrPort{}, false
}

// Stats returns a snapshot of the counters.
func (m *MediaSocket) Stats() MediaStats {
	s := &m.stats
	return MediaStats{
		RTPIn: s.rtpIn.Load(), RTCPIn: s.rtcpIn.Load(), RTPOut: s.rtpOut.Load(), RTCPOut: s.rtcpOut.Load(),
		SendDrops: s.sendDrops.Load(), Strangers: s.strangers.Load(), Malformed: s.malformed.Load(),
	}
}

// Close closes both sockets, waits for the readers to return and gives the port pair back. It
// is safe to call more than once.
func (m *MediaSocket) Close() error {
	m.closeOnce.Do(func() {
		m.rtp.Close()
		m.rtcp.Close()
		m.readers.Wait()
		if m.release != nil {
			m.release()
		}
	})
	return nil
}
