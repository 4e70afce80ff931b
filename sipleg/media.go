package sipleg

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/rtp"

	"confd/sdpneg"
)

// maxDatagram is the largest media datagram read; anything longer is truncated by the kernel
// and then rejected as malformed.
const maxDatagram = 1500

// MediaSocket is the RTP and RTCP socket pair of one SIP leg (RFC 3550), with the source rules
// that keep a stranger who finds the port out of the call:
//
//   - Media is accepted only from the address the remote's SDP names (the c= address and the
//     m= port; a=rtcp or port+1 for RTCP, RFC 3605). Until SetRemote there is no such address
//     and nothing is accepted: the first packet to a port does not decide who the caller is,
//     which is how a stranger used to take over a call (Asterisk's "RTP bleed",
//     CVE-2017-14099, and the hijack of issue 8).
//   - NAT (the SDP carries a private address, or a NAT rewrites the port): while nothing has come
//     from the SDP address, another source is latched after LatchRun consecutive in-sequence
//     RTP packets of one SSRC (the SSRC already heard on this address, once there is one) in a
//     negotiated payload type; for a public SDP address only from its own host. Once the SDP address has sent, the source never moves again.
//     RTCP from elsewhere than its SDP address is latched only from the latched RTP source's
//     host carrying its SSRC.
//   - Symmetric RTP (RFC 4961): a latched source is also where media is sent from then on.
//   - Nothing is sent to an address that has not shown it is there: after UnprovenBudget
//     packets (half a second) to an address from which nothing has been accepted yet, RTP is
//     held back until a packet is (RTP or RTCP, by the rules above). An SDP address is the
//     caller's word, and an INVITE (or re-INVITE) could otherwise aim a stream at anyone.
//
// Every packet from anywhere else is dropped and counted (Strangers). The per-packet path
// allocates nothing; only a latch does.
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

	onRTP  func(h *rtp.Header, payload []byte, now time.Time)
	onRTCP func(pkt []byte, now time.Time) error
	// rtpIn is the RTP packet being handed to onRTP, parsed once here; it belongs to whoever runs
	// the RTP port's input: its reader goroutine, then the room's Poll, one at a time.
	rtpIn rtp.Packet

	// sdp is where the remote's SDP says it is (SetRemote); nil before.
	sdp atomic.Pointer[sdpRemote]
	// epoch counts SDP address changes; each port's latch starts again when it moves on.
	epoch atomic.Uint64
	// Where to send RTP and RTCP: the SDP addresses, replaced by the latched sources.
	rtpDest, rtcpDest atomic.Pointer[udpDest]
	// Latched sources, published for Source and for the RTCP port's rule; nil until latched.
	rtpSource, rtcpSource atomic.Pointer[netip.AddrPort]
	// rtpSSRC is the latched RTP stream's SSRC, with bit 32 set once known.
	rtpSSRC atomic.Uint64
	// payloadTypes is the set of negotiated payload types (bit n: type n), which a NAT latch
	// requires.
	payloadTypes [2]atomic.Uint64
	// latchMu orders a latch's publication with SetRemote; the per-packet path does not take it.
	latchMu sync.Mutex
	// Each port's latch state belongs to its reader goroutine.
	rtpLatch, rtcpLatch latch

	sending atomic.Bool
	lastRTP atomic.Int64 // unix nanoseconds
	// heard is the epoch in which a packet was last accepted (+1, so that 0 means never): the
	// remote of that epoch has shown it is there. unproven counts the RTP packets sent in the
	// current epoch before it did.
	heard    atomic.Uint64
	unproven atomic.Uint32
	// natHosts, when set, is the only host a NAT latch may move to (the dialog's signalling
	// source, SetNATHost); unset means any (a trusted trunk, or not told).
	natHost atomic.Pointer[netip.Addr]

	rtpOut, rtcpOut nbSender

	// poll is the RTP socket once a room's tick reads it itself (Poll, mediapoll_linux.go).
	poll mediaPoll

	stats struct {
		rtpIn, rtcpIn, rtpOut, rtcpOut, sendDrops, strangers, malformed, latches, unproven atomic.Uint64
	}

	startOnce, closeOnce sync.Once
	readers              sync.WaitGroup
}

// LatchRun is how many consecutive in-sequence RTP packets of one SSRC, in a negotiated payload
// type, a source other than the SDP address must send before the media is latched to it (NAT),
// as long as the SDP address itself has sent nothing. A stranger spraying packets with random
// sequence numbers or SSRCs never gets there; a real phone behind NAT loses its first 80 ms.
const LatchRun = 5

// sdpRemote is the remote's media addresses as its SDP gives them.
type sdpRemote struct {
	rtp, rtcp netip.AddrPort
	mux       bool
	// behindNAT is true when the SDP address cannot be where the media comes from (private,
	// shared, loopback, link-local or unspecified): then a NAT source may be latched from any
	// host. For a public SDP address only its own host may latch another port (a NAT that
	// rewrote the port), so a stranger elsewhere never can.
	behindNAT bool
}

// natHidden reports whether a is an address a NAT puts its inside hosts on (RFC 1918, RFC 4193,
// RFC 6598 shared space), or one no remote host can be reached at.
func natHidden(a netip.Addr) bool {
	return !a.IsValid() || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified() ||
		sharedAddressSpace.Contains(a)
}

// sharedAddressSpace is carrier-grade NAT's inside range (RFC 6598).
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// latch is one port's source state, owned by its reader goroutine.
type latch struct {
	epoch   uint64
	source  netip.AddrPort // accepted source; invalid until one is
	fromSDP bool           // the SDP address has sent: the source never moves again
	ssrc    uint32         // the accepted stream's SSRC (RTP port), once ssrcSet
	ssrcSet bool
	// A NAT candidate and its run of in-sequence packets.
	cand     netip.AddrPort
	candSSRC uint32
	candSeq  uint16
	candRun  int
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
	// Strangers counts packets dropped because they came from an address other than the SDP's
	// or the latched one (strict RTP), a NAT candidate's packets before it is latched included.
	Strangers uint64
	// Latches counts moves of the RTP or RTCP source to an address other than the SDP's (NAT).
	Latches uint64
	// Malformed counts datagrams that are neither RTP nor RTCP (RFC 5761 section 4), RTP
	// packets whose header does not parse (an extension or padding that overruns the packet)
	// and RTCP packets the call could not parse (Start):
	// the leg's one count of packets refused before the bridge sees them.
	Malformed uint64
	// Unproven counts RTP packets held back because nothing had come from the remote yet
	// (UnprovenBudget).
	Unproven uint64
}

// LogValue makes the counters structured log attributes (a "media" group of rtp_in, rtp_out,
// ...), which a JSON log collector can query, rather than one formatted struct.
func (s MediaStats) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Uint64("rtp_in", s.RTPIn), slog.Uint64("rtcp_in", s.RTCPIn),
		slog.Uint64("rtp_out", s.RTPOut), slog.Uint64("rtcp_out", s.RTCPOut),
		slog.Uint64("send_drops", s.SendDrops), slog.Uint64("strangers", s.Strangers),
		slog.Uint64("latches", s.Latches), slog.Uint64("malformed", s.Malformed),
		slog.Uint64("unproven", s.Unproven))
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
	mu   sync.Mutex
	poll *mediaPoll // the RTP socket's polled descriptor, which replaces raw once handed over
	raw  syscall.RawConn
	pkt  []byte
	sa   syscall.Sockaddr
	err  error
	fn   func(fd uintptr) bool
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
	if s.poll != nil {
		if polled, err := s.poll.sendPolled(pkt, d.sa); polled {
			return err
		}
	}
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
	m.rtpOut.poll = &m.poll
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

// SetRemote sets the remote's media addresses as its SDP gives them (sdpneg.Result.Remote,
// RemoteRTCP, RTCPMux): where to send RTP and RTCP, and where they are accepted from. A changed
// address (a re-INVITE after the remote moved) forgets the latched sources, so that the new
// address, or a NAT source for it, is learned again; an unchanged one keeps them.
func (m *MediaSocket) SetRemote(rtp, rtcp netip.AddrPort, mux bool) {
	rtp = unmapped(rtp)
	if mux {
		rtcp = rtp
	}
	rtcp = unmapped(rtcp)
	m.latchMu.Lock()
	defer m.latchMu.Unlock()
	old := m.sdp.Load()
	m.sdp.Store(&sdpRemote{rtp: rtp, rtcp: rtcp, mux: mux, behindNAT: natHidden(rtp.Addr())})
	if old != nil && old.rtp == rtp && old.rtcp == rtcp && m.rtpSource.Load() != nil {
		return
	}
	m.epoch.Add(1)
	m.unproven.Store(0)
	m.rtpSource.Store(nil)
	m.rtcpSource.Store(nil)
	m.rtpSSRC.Store(0)
	m.rtpDest.Store(newUDPDest(rtp))
	m.rtcpDest.Store(newUDPDest(rtcp))
}

// SetPayloadTypes sets the negotiated payload types the remote sends with (its codec and
// telephone-event, in confd's numbering): a NAT latch requires one of them.
func (m *MediaSocket) SetPayloadTypes(pts ...uint8) {
	var set [2]uint64
	for _, pt := range pts {
		set[pt>>6&1] |= 1 << (pt & 63)
	}
	m.payloadTypes[0].Store(set[0])
	m.payloadTypes[1].Store(set[1])
}

// remotePayloadTypes lists the payload types res lets the remote send with: the codec and
// telephone-event in confd's numbering, and, for an answer that accepted several codecs, those
// too (a remote that answers may switch among them, RFC 3264 section 7).
func remotePayloadTypes(res *sdpneg.Result) []uint8 {
	pts := []uint8{res.LocalPayloadType, res.PayloadType}
	for _, p := range res.Accepted {
		pts = append(pts, p.Type)
	}
	if te := res.TelephoneEvent; te.Present() {
		pts = append(pts, te.LocalPayloadType, te.PayloadType)
	}
	return pts
}

func (m *MediaSocket) negotiated(pt uint8) bool {
	return m.payloadTypes[pt>>6&1].Load()&(1<<(pt&63)) != 0
}

func unmapped(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// SetSending turns sending on or off (hold: RFC 3264 section 8.4); while off, SendRTP drops.
func (m *MediaSocket) SetSending(on bool) { m.sending.Store(on) }

// Start begins reading: onRTP gets every RTP packet accepted from the remote, parsed (its header
// and its payload without padding, valid during the call), and onRTCP every RTCP packet, with the
// arrival time, on the reader goroutines. onRTCP returns an error for a packet it cannot parse,
// which is then counted as malformed rather than received. Start is called once; later calls do
// nothing.
func (m *MediaSocket) Start(onRTP func(h *rtp.Header, payload []byte, now time.Time), onRTCP func(pkt []byte, now time.Time) error) {
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
			if !rtcpPort && m.poll.want.Load() {
				// A room's tick reads this socket from now on (Poll).
				if m.handOver() || errors.Is(err, net.ErrClosed) {
					return
				}
				m.poll.want.Store(false) // no descriptor to hand over: keep reading, ask again
				_ = c.SetReadDeadline(time.Time{})
				continue
			}
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

// input applies the source rules to one datagram and hands it on.
func (m *MediaSocket) input(pkt []byte, src netip.AddrPort, now time.Time, rtcpPort bool) {
	src = unmapped(src)
	kind := classify(pkt)
	if kind == kindInvalid || (rtcpPort && kind != kindRTCP) {
		m.stats.malformed.Add(1)
		return
	}
	if !m.accept(pkt, kind, src, rtcpPort) {
		m.stats.strangers.Add(1)
		return
	}
	if kind == kindRTP && m.rtpIn.Unmarshal(pkt) != nil {
		// Its header extension or padding overruns it: malformed too, counted here and only here.
		// Only the remote's packets are parsed: a stranger's cost no more than classify and
		// accept (and pion's parse error allocates).
		m.stats.malformed.Add(1)
		return
	}
	if e := m.epoch.Load() + 1; m.heard.Load() != e {
		m.heard.Store(e)
	}
	if kind == kindRTCP {
		if m.onRTCP != nil && m.onRTCP(pkt, now) != nil {
			m.stats.malformed.Add(1) // RTCP by its first octets, but its packets do not parse
			return
		}
		m.stats.rtcpIn.Add(1)
		return
	}
	m.stats.rtpIn.Add(1)
	m.lastRTP.Store(now.UnixNano())
	if m.onRTP != nil {
		m.onRTP(&m.rtpIn.Header, m.rtpIn.Payload, now)
	}
}

// accept reports whether a well-formed packet of kind from src comes from the remote, latching
// its source when the rules of MediaSocket say so.
func (m *MediaSocket) accept(pkt []byte, kind packetKind, src netip.AddrPort, rtcpPort bool) bool {
	sdp := m.sdp.Load()
	if sdp == nil {
		return false // no SDP yet: nobody is known to be the remote
	}
	l, want := &m.rtpLatch, sdp.rtp
	if rtcpPort {
		l, want = &m.rtcpLatch, sdp.rtcp
	}
	if e := m.epoch.Load(); l.epoch != e {
		*l = latch{epoch: e}
	}
	ssrc := be32(pkt[4:8]) // RTCP: the sender's SSRC
	if kind == kindRTP {
		ssrc = be32(pkt[8:12])
	}
	switch {
	case src == want:
		if !l.fromSDP {
			l.fromSDP = true
			if l.source != src {
				m.latch(l, src, rtcpPort, false)
			}
		}
	case l.fromSDP:
		return false
	case src == l.source:
	case kind != kindRTP || rtcpPort:
		// RTCP does not latch by itself: only from the latched RTP source's host, carrying its
		// SSRC (RFC 3550 section 6.4: an SR or RR names its sender first).
		if !rtcpPort || sdp.mux || !m.rtcpFromRTPSource(src, ssrc) {
			return false
		}
		m.latch(l, src, true, true)
		return true
	default:
		if !m.natSourceAllowed(sdp, want, src) || !m.candidate(l, pkt, src, ssrc) {
			return false
		}
		m.latch(l, src, false, true)
	}
	if kind == kindRTP && !rtcpPort && !l.ssrcSet {
		l.ssrc, l.ssrcSet = ssrc, true
		m.rtpSSRC.Store(1<<32 | uint64(ssrc))
	}
	return true
}

// natSourceAllowed reports whether src, neither the SDP address nor the latched source, may
// earn a NAT latch: for a public SDP address only its own host (a port rewritten by NAT); for a
// private one (the caller is behind NAT and cannot know its public address) only the host its
// signalling came from, when SetNATHost named one, since a stranger who sprays the port range
// could otherwise take the call's media before the caller's first packet.
func (m *MediaSocket) natSourceAllowed(sdp *sdpRemote, want, src netip.AddrPort) bool {
	if !sdp.behindNAT {
		return src.Addr() == want.Addr()
	}
	h := m.natHost.Load()
	return h == nil || *h == src.Addr()
}

// SetNATHost names the host that a caller behind NAT (a private SDP address) sends its media
// from: the source of its signalling. The zero Addr lets any host earn the latch (a trusted
// trunk whose callers' media comes from elsewhere).
func (m *MediaSocket) SetNATHost(host netip.Addr) {
	if !host.IsValid() {
		m.natHost.Store(nil)
		return
	}
	host = host.Unmap()
	m.natHost.Store(&host)
}

// candidate counts an RTP packet from src, neither the SDP address nor the latched source, towards
// a NAT latch and reports whether src has now earned it.
func (m *MediaSocket) candidate(l *latch, pkt []byte, src netip.AddrPort, ssrc uint32) bool {
	seq := uint16(pkt[2])<<8 | uint16(pkt[3])
	if !m.negotiated(pkt[1]&0x7f) || (l.ssrcSet && ssrc != l.ssrc) {
		l.candRun = 0
		return false
	}
	if l.candRun > 0 && src == l.cand && ssrc == l.candSSRC && seq == l.candSeq+1 {
		l.candRun++
	} else {
		l.cand, l.candSSRC, l.candRun = src, ssrc, 1
	}
	l.candSeq = seq
	return l.candRun >= LatchRun
}

// rtcpFromRTPSource reports whether RTCP from src carrying ssrc may latch the RTCP port: the RTP
// port has latched a source on src's host and ssrc is its stream's.
func (m *MediaSocket) rtcpFromRTPSource(src netip.AddrPort, ssrc uint32) bool {
	rs := m.rtpSource.Load()
	known := m.rtpSSRC.Load()
	return rs != nil && rs.Addr() == src.Addr() && known>>32 == 1 && uint32(known) == ssrc
}

// latch makes src the accepted source of one port and, symmetric RTP, its destination. It is
// the only step of the input path that allocates.
func (m *MediaSocket) latch(l *latch, src netip.AddrPort, rtcpPort, nat bool) {
	l.source, l.candRun = src, 0
	m.latchMu.Lock()
	defer m.latchMu.Unlock()
	if m.epoch.Load() != l.epoch {
		return // SetRemote moved on meanwhile: its addresses stand
	}
	first := src
	d := newUDPDest(src)
	if rtcpPort {
		m.rtcpSource.Store(&first)
		m.rtcpDest.Store(d)
	} else {
		m.rtpSource.Store(&first)
		m.rtpDest.Store(d)
		if sdp := m.sdp.Load(); sdp != nil && sdp.mux {
			m.rtcpDest.Store(d)
		}
	}
	if nat {
		m.stats.latches.Add(1)
	}
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// UnprovenBudget is how many RTP packets go to a remote address before anything has come from
// it: half a second, enough for a phone's first packets (or its first RTCP report, for one that
// only listens) to cross; then RTP waits for them.
const UnprovenBudget = 25

// SendRTP sends one RTP packet to the remote without blocking; a packet that cannot be sent
// now (full buffer, no destination, hold) is dropped and counted. It allocates nothing.
func (m *MediaSocket) SendRTP(pkt []byte) {
	if !m.sending.Load() {
		m.stats.sendDrops.Add(1)
		return
	}
	if m.heard.Load() != m.epoch.Load()+1 && m.unproven.Add(1) > UnprovenBudget {
		m.stats.unproven.Add(1)
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
	if sdp := m.sdp.Load(); sdp != nil && sdp.mux {
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

// Source returns the accepted RTP source (the SDP address once it has sent, or a NAT source
// latched), if any.
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
		Latches: s.latches.Load(), Unproven: s.unproven.Load(),
	}
}

// Close closes both sockets, waits for the readers to return and gives the port pair back. It
// is safe to call more than once.
func (m *MediaSocket) Close() error {
	m.closeOnce.Do(func() {
		m.rtp.Close()
		m.rtcp.Close()
		m.readers.Wait()
		m.poll.close()
		if m.release != nil {
			m.release()
		}
	})
	return nil
}
