package sipleg

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"confd/testkit"
)

// testAllocator returns an allocator over a small range that tests pick free for themselves.
func testAllocator(t testing.TB) *PortAllocator {
	t.Helper()
	for range 50 {
		l, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		p := l.LocalAddr().(*net.UDPAddr).Port &^ 1
		l.Close()
		if p < 1024 || p+40 > 65535 {
			continue
		}
		a, err := NewPortAllocator(p, p+39, netip.MustParseAddr("127.0.0.1"))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	t.Fatal("no port range")
	return nil
}

func rtpPacket(seq uint16) []byte {
	p := make([]byte, 12+160)
	p[0] = 0x80
	p[1] = 0 // PCMU
	p[2], p[3] = byte(seq>>8), byte(seq)
	return p
}

type received struct {
	mu   sync.Mutex
	rtp  int
	rtcp int
	got  chan struct{}
}

func (r *received) onRTP(*rtp.Header, []byte, time.Time) { r.count(&r.rtp) }
func (r *received) onRTCP(pkt []byte, now time.Time) error {
	r.count(&r.rtcp)
	return nil
}

// count adds one to the counter n and wakes a waiter on got, if any.
func (r *received) count(n *int) {
	r.mu.Lock()
	*n++
	r.mu.Unlock()
	select {
	case r.got <- struct{}{}:
	default:
	}
}

func TestPortAllocatorHandsOutEvenPairsAndFreesThem(t *testing.T) {
	a := testAllocator(t)
	var socks []*MediaSocket
	for {
		m, err := a.Open()
		if err != nil {
			break
		}
		if m.Port()%2 != 0 {
			t.Fatalf("RTP port %d is odd", m.Port())
		}
		socks = append(socks, m)
	}
	if len(socks) == 0 || a.InUse() != len(socks) {
		t.Fatalf("opened %d, in use %d", len(socks), a.InUse())
	}
	for _, m := range socks {
		m.Close()
		m.Close()
	}
	if a.InUse() != 0 {
		t.Fatalf("%d pairs still in use after closing", a.InUse())
	}
	if _, err := NewPortAllocator(20001, 20001, netip.Addr{}); err == nil {
		t.Fatal("a range without a pair was accepted")
	}
}

// rtpFrom returns an RTP packet of payload type pt, sequence number seq and SSRC ssrc.
func rtpFrom(pt uint8, seq uint16, ssrc uint32) []byte {
	p := rtpPacket(seq)
	p[1] = pt
	binary.BigEndian.PutUint32(p[8:], ssrc)
	return p
}

// openCallerMedia opens a media socket for PCMU whose remote is the socket caller (its SDP
// address, RTCP one port up), and another socket, a stranger's.
func openCallerMedia(t *testing.T) (m *MediaSocket, r *received, caller, stranger *net.UDPConn) {
	t.Helper()
	m, r = openMedia(t)
	caller, callerAddr := loopbackUDP(t)
	stranger, _ = loopbackUDP(t)
	m.SetRemote(callerAddr, netip.AddrPortFrom(callerAddr.Addr(), callerAddr.Port()+1), false)
	m.SetPayloadTypes(0)
	return m, r, caller, stranger
}

// loopbackUDP is a UDP socket on 127.0.0.1 closed with the test.
func loopbackUDP(t testing.TB) (*net.UDPConn, netip.AddrPort) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, c.LocalAddr().(*net.UDPAddr).AddrPort()
}

// awaitStats waits until cond holds for the socket's counters (every packet sent to it has been
// read), or fails.
func awaitStats(t *testing.T, m *MediaSocket, cond func(MediaStats) bool) MediaStats {
	t.Helper()
	if !testkit.WaitFor(5*time.Second, func() bool { return cond(m.Stats()) }) {
		t.Fatalf("media counters stuck at %+v", m.Stats())
	}
	return m.Stats()
}

// openMedia opens a media socket closed with the test, and what it hands on.
func openMedia(t testing.TB) (*MediaSocket, *received) {
	t.Helper()
	m, err := testAllocator(t).Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, &received{got: make(chan struct{}, 100)}
}

// mediaGoesTo sends one RTP packet from m and checks that caller gets it and stranger does not.
func mediaGoesTo(t *testing.T, m *MediaSocket, caller, stranger *net.UDPConn) {
	t.Helper()
	m.SendRTP(rtpPacket(2))
	if !gets(caller, 2*time.Second) {
		t.Fatal("the caller got no media")
	}
	if gets(stranger, 50*time.Millisecond) {
		t.Fatal("the stranger got the call's media")
	}
}

// gets reports whether c receives a datagram within d.
func gets(c *net.UDPConn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, _, err := c.ReadFromUDP(make([]byte, 1500))
	return err == nil
}

// TestPortAllocatorPortsCannotBeForetold is issue 8 item 4's port half: consecutive calls do
// not get consecutive port pairs, so the next call's port cannot be read off the last one's.
// Still even RTP with RTCP on the next port, and never a pair in use.
func TestPortAllocatorPortsCannotBeForetold(t *testing.T) {
	a, err := NewPortAllocator(40000, 40999, netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 12
	var socks []*MediaSocket
	seen := map[int]bool{}
	sequential := 0
	for i := range n {
		m, err := a.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		p := m.Port()
		if p%2 != 0 || p < 40000 || p+1 > 40999 || seen[p] {
			t.Fatalf("port %d: odd, out of range or handed out twice", p)
		}
		if i > 0 && (p == socks[i-1].Port()+2 || p == socks[i-1].Port()-2) {
			sequential++
		}
		seen[p] = true
		socks = append(socks, m)
	}
	ports := make([]int, 0, n)
	for _, m := range socks {
		ports = append(ports, m.Port())
	}
	t.Logf("ports handed out: %v", ports)
	// 500 pairs: a neighbour comes next with probability 1/250 a time.
	if sequential > 2 {
		t.Fatalf("%d of %d consecutive Opens returned neighbouring pairs: %v", sequential, n-1, ports)
	}
}

// TestMediaSocketStrangerFirstGetsNothing is issue 8 item 4: a stranger who sends to a call's
// media port before the caller does (a spray of random streams, then a well-formed one) is not
// taken for the caller. The caller, sending from the address of its SDP, is heard and gets the
// media; the stranger gets nothing, then or later.
func TestMediaSocketStrangerFirstGetsNothing(t *testing.T) {
	m, r, caller, stranger := openCallerMedia(t)
	m.Start(r.onRTP, r.onRTCP)
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: m.Port()}

	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		stranger.WriteToUDP(rtpFrom(uint8(rng.IntN(2)), uint16(rng.Uint32()), rng.Uint32()), dst)
	}
	for i := range 3 { // in sequence, but fewer than a NAT latch needs before the caller speaks
		stranger.WriteToUDP(rtpFrom(0, uint16(100+i), 42), dst)
	}
	awaitStats(t, m, func(s MediaStats) bool { return s.Strangers == 53 })
	m.SendRTP(rtpPacket(1)) // to the SDP address, the caller's
	if gets(stranger, 50*time.Millisecond) {
		t.Fatal("the stranger got the call's media")
	}
	for i := range 3 {
		caller.WriteToUDP(rtpFrom(0, uint16(7+i), 99), dst)
	}
	st := awaitStats(t, m, func(s MediaStats) bool { return s.RTPIn == 3 })
	if st.Latches != 0 {
		t.Fatalf("latched to someone else: %+v", st)
	}
	// From now on the SDP address is the caller for good: a long in-sequence stream from the
	// stranger changes nothing.
	for i := range 20 {
		stranger.WriteToUDP(rtpFrom(0, uint16(103+i), 42), dst)
	}
	st = awaitStats(t, m, func(s MediaStats) bool { return s.Strangers == 73 })
	if st.RTPIn != 3 || st.Latches != 0 {
		t.Fatalf("stats %+v: want only the caller's 3 packets accepted", st)
	}
	if src, ok := m.Source(); !ok || src != caller.LocalAddr().(*net.UDPAddr).AddrPort() {
		t.Fatalf("source %v, want the caller %v", src, caller.LocalAddr())
	}
	r.mu.Lock()
	heard := r.rtp
	r.mu.Unlock()
	if heard != 3 {
		t.Fatalf("%d packets handed on, want the caller's 3", heard)
	}
	mediaGoesTo(t, m, caller, stranger)
}

// TestMediaSocketLatchesNATCallerNotSprayer is issue 8 item 4's NAT exception: the SDP names an
// address the caller's media does not come from (a private one, here loopback port 9), so the
// caller's real source is latched after LatchRun in-sequence packets, while a stranger spraying
// random SSRCs and sequence numbers never is, nor one with a stream of another SSRC later.
// Confd's media then goes to the caller, never to the stranger, and RTCP latches only from the
// caller's host with its SSRC.
func TestMediaSocketLatchesNATCallerNotSprayer(t *testing.T) {
	m, r := openMedia(t)
	m.SetRemote(netip.MustParseAddrPort("127.0.0.1:9"), netip.MustParseAddrPort("127.0.0.1:10"), false)
	m.SetPayloadTypes(0, 101)
	m.Start(r.onRTP, r.onRTCP)
	caller, callerAddr := loopbackUDP(t)
	stranger, _ := loopbackUDP(t)
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: m.Port()}

	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		pt := []uint8{0, 101, 8}[rng.IntN(3)]
		stranger.WriteToUDP(rtpFrom(pt, uint16(rng.Uint32()), rng.Uint32()), dst)
		if i%50 == 49 { // in batches the socket buffer holds
			awaitStats(t, m, func(s MediaStats) bool { return s.Strangers == uint64(i+1) })
		}
	}
	st := m.Stats()
	if st.RTPIn != 0 || st.Latches != 0 {
		t.Fatalf("the sprayer got in: %+v", st)
	}
	// A stream in a payload type that was not negotiated does not latch either.
	for i := range 2 * LatchRun {
		stranger.WriteToUDP(rtpFrom(8, uint16(i), 5), dst)
	}
	awaitStats(t, m, func(s MediaStats) bool { return s.Strangers == 300+2*LatchRun })
	const ssrc = 0xC0FFEE
	for i := range LatchRun + 2 {
		caller.WriteToUDP(rtpFrom(0, uint16(1000+i), ssrc), dst)
	}
	st = awaitStats(t, m, func(s MediaStats) bool { return s.RTPIn == 3 })
	if st.Latches != 1 || st.Strangers != 300+2*LatchRun+LatchRun-1 {
		t.Fatalf("stats %+v: want one latch after %d packets", st, LatchRun)
	}
	if src, ok := m.Source(); !ok || src != callerAddr {
		t.Fatalf("source %v, want the caller %v", src, callerAddr)
	}
	// Another SSRC in sequence, however long, does not move the latch.
	for i := range 4 * LatchRun {
		stranger.WriteToUDP(rtpFrom(0, uint16(i), 0xBAD), dst)
	}
	st = awaitStats(t, m, func(s MediaStats) bool { return s.Strangers == 300+2*LatchRun+LatchRun-1+4*LatchRun })
	if st.Latches != 1 || st.RTPIn != 3 {
		t.Fatalf("the latch moved: %+v", st)
	}
	mediaGoesTo(t, m, caller, stranger)
	// RTCP: the stranger's report (wrong SSRC) is dropped, the caller's is latched.
	rtcpDst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: m.Port() + 1}
	rr := func(ssrc uint32) []byte {
		p := []byte{0x80, 201, 0, 1, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(p[4:], ssrc)
		return p
	}
	stranger.WriteToUDP(rr(0xBAD), rtcpDst)
	caller.WriteToUDP(rr(ssrc), rtcpDst)
	st = awaitStats(t, m, func(s MediaStats) bool { return s.RTCPIn == 1 })
	if !m.SendRTCP(rr(1)) || !gets(caller, 2*time.Second) {
		t.Fatal("RTCP did not reach the NAT caller")
	}
	if gets(stranger, 50*time.Millisecond) {
		t.Fatal("the stranger got RTCP")
	}
	// Hold: nothing is sent.
	m.SetSending(false)
	drops := m.Stats().SendDrops
	m.SendRTP(rtpPacket(8))
	if m.Stats().SendDrops != drops+1 {
		t.Fatalf("send while on hold not dropped: %+v", m.Stats())
	}
}

// TestMediaSocketPublicSDPLatchesOnlyItsOwnHost: when the SDP names a public address, a NAT latch
// is only for a port rewritten on that host; a perfect stream from another host never latches.
func TestMediaSocketPublicSDPLatchesOnlyItsOwnHost(t *testing.T) {
	m := &MediaSocket{}
	m.SetRemote(netip.MustParseAddrPort("203.0.113.5:4000"), netip.MustParseAddrPort("203.0.113.5:4001"), false)
	m.SetPayloadTypes(0)
	elsewhere := netip.MustParseAddrPort("198.51.100.7:4000")
	for i := range 4 * LatchRun {
		m.input(rtpFrom(0, uint16(i), 7), elsewhere, time.Time{}, false)
	}
	if st := m.Stats(); st.RTPIn != 0 || st.Latches != 0 {
		t.Fatalf("another host latched: %+v", st)
	}
	rewritten := netip.MustParseAddrPort("203.0.113.5:61000")
	for i := range LatchRun {
		m.input(rtpFrom(0, uint16(i), 7), rewritten, time.Time{}, false)
	}
	if src, ok := m.Source(); !ok || src != rewritten || m.Stats().RTPIn != 1 {
		t.Fatalf("the rewritten port was not latched: %v %+v", src, m.Stats())
	}
}

func TestMediaSocketRTCPMuxAndRTCPPort(t *testing.T) {
	m, r := openMedia(t)
	caller, ap := loopbackUDP(t)
	m.SetRemote(ap, ap, true)
	m.Start(r.onRTP, r.onRTCP)
	rr := []byte{0x80, 201, 0, 1, 0, 0, 0, 1} // an empty receiver report
	caller.WriteToUDP(rr, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: m.Port()})
	<-r.got
	caller.WriteToUDP(rr, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: m.Port() + 1})
	<-r.got
	caller.WriteToUDP(rtpPacket(1), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: m.Port() + 1})
	if !m.SendRTCP(rr) {
		t.Fatal("muxed RTCP not sent")
	}
	buf := make([]byte, 100)
	caller.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, from, err := caller.ReadFromUDP(buf); err != nil || from.Port != m.Port() {
		t.Fatalf("muxed RTCP came from %v (%v), want the RTP port %d", from, err, m.Port())
	}
	awaitStats(t, m, func(st MediaStats) bool { return st.RTCPIn == 2 && st.Malformed == 1 })
}

// TestMediaSocketCountsUnparsablePacketsOnce: an RTP packet whose header extension or padding
// overruns it is malformed, counted as such by the socket alone (not also as received) and not
// handed on; a good one is.
func TestMediaSocketCountsUnparsablePacketsOnce(t *testing.T) {
	m, r, _, _ := openCallerMedia(t)
	m.onRTP = r.onRTP
	from := m.sdp.Load().rtp
	good := rtpPacket(1)
	extension := append(rtpPacket(2)[:12], 0xBE, 0xDE, 0, 9) // 9 words of extension promised, none there
	extension[0] |= 0x10
	padding := rtpPacket(3)
	padding[0] |= 0x20
	padding[len(padding)-1] = 250 // more padding than packet
	for _, pkt := range [][]byte{good, extension, padding} {
		m.input(pkt, from, time.Now(), false)
	}
	if st := m.Stats(); st.RTPIn != 1 || st.Malformed != 2 || r.rtp != 1 {
		t.Errorf("stats %+v, %d handed on: want 1 received and handed on, 2 malformed", st, r.rtp)
	}
	// RTCP by its first octets that the call cannot parse is malformed too, not received.
	m.SetRemote(from, from, true)
	m.onRTCP = func(pkt []byte, _ time.Time) error {
		_, err := rtcp.Unmarshal(pkt)
		return err
	}
	m.input([]byte{0x80, 201, 0, 1, 0, 0, 0, 1}, from, time.Now(), false)
	m.input([]byte{0x80, 201, 0, 9, 0, 0, 0, 1}, from, time.Now(), false) // its length overruns it
	if st := m.Stats(); st.RTCPIn != 1 || st.Malformed != 3 {
		t.Errorf("stats %+v: want 1 RTCP received, 3 malformed", st)
	}
}

// sendingSocket returns a socket that sends to a local sink at ap, and an RTP packet the sink
// has sent it: the remote has shown it is there, so sends go out for real.
func sendingSocket(tb testing.TB) (*MediaSocket, []byte, netip.AddrPort) {
	m, _ := openMedia(tb)
	_, ap := loopbackUDP(tb)
	m.SetRemote(ap, ap, false)
	m.SetSending(true)
	pkt := rtpPacket(1)
	m.SetPayloadTypes(0)
	m.input(pkt, ap, time.Time{}, false)
	return m, pkt, ap
}

func TestMediaSocketSendAllocatesNothing(t *testing.T) {
	m, pkt, ap := sendingSocket(t)
	if n := testing.AllocsPerRun(200, func() { m.SendRTP(pkt) }); n != 0 {
		t.Fatalf("SendRTP allocates %v times", n)
	}
	if n := testing.AllocsPerRun(200, func() {
		m.input(pkt, ap, time.Time{}, false)
	}); n != 0 {
		t.Fatalf("input allocates %v times", n)
	}
	// Neither do a stranger's packets, nor a NAT candidate's that do not earn a latch.
	other := netip.AddrPortFrom(ap.Addr(), ap.Port()+1)
	nat := &MediaSocket{}
	nat.SetRemote(netip.MustParseAddrPort("10.0.0.1:4000"), netip.MustParseAddrPort("10.0.0.1:4001"), false)
	nat.SetPayloadTypes(0)
	cand := rtpFrom(0, 0, 1)
	if n := testing.AllocsPerRun(200, func() {
		m.input(cand, other, time.Time{}, false)
		cand[3] += 2 // out of sequence
		nat.input(cand, other, time.Time{}, false)
	}); n != 0 {
		t.Fatalf("a stranger's packet allocates %v times", n)
	}
}

func BenchmarkMediaSocketSendRTP(b *testing.B) {
	m, pkt, _ := sendingSocket(b)
	b.ReportAllocs()
	for b.Loop() {
		m.SendRTP(pkt)
	}
}

// FuzzMediaInput feeds arbitrary datagrams to a media socket's input path: nothing may panic,
// and only well-formed RTP or RTCP from the learned source reaches the callbacks.
func FuzzMediaInput(f *testing.F) {
	f.Add(rtpPacket(1), false)
	f.Add([]byte{0x80, 200, 0, 6, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, true)
	f.Add([]byte{0x80, 201, 0, 1, 0, 0, 0, 1}, false)
	f.Add([]byte{0, 1, 0, 0x2c, 0x21, 0x12, 0xa4, 0x42}, false) // STUN binding request
	f.Add([]byte{0x80}, false)
	src := netip.MustParseAddrPort("127.0.0.1:4000")
	f.Fuzz(func(t *testing.T, pkt []byte, rtcpPort bool) {
		m := &MediaSocket{}
		m.onRTP = func(h *rtp.Header, payload []byte, _ time.Time) {
			if classify(pkt) != kindRTP || h.Version != 2 || len(payload) > len(pkt)-12 {
				t.Fatalf("non-RTP %x delivered as RTP", pkt)
			}
		}
		m.onRTCP = func(p []byte, _ time.Time) error {
			if classify(p) != kindRTCP {
				t.Fatalf("non-RTCP %x delivered as RTCP", p)
			}
			return nil
		}
		m.input(pkt, src, time.Time{}, rtcpPort)
		m.input(pkt, netip.MustParseAddrPort("127.0.0.2:4000"), time.Time{}, rtcpPort)
		if m.Stats().RTPIn+m.Stats().RTCPIn > 1 {
			t.Fatal("a stranger's packet was accepted")
		}
	})
}

// received counts the datagrams c gets until none comes for 100 ms.
func countArrivals(c *net.UDPConn) int {
	n := 0
	for gets(c, 100*time.Millisecond) {
		n++
	}
	return n
}

// TestMediaSocketSendsOnlyToAProvenRemote: an SDP address is the caller's word. An INVITE (ACKed
// by a spoofer who saw the 200, or a caller's own re-INVITE) naming a victim's address gets at
// most UnprovenBudget packets sent there, not a stream for as long as the call lasts: RTP waits
// until something has come from the remote. Once it has, media flows; a re-INVITE that moves the
// SDP address has to be shown again.
func TestMediaSocketSendsOnlyToAProvenRemote(t *testing.T) {
	m, r := openMedia(t)
	m.SetPayloadTypes(0)
	m.SetSending(true)
	m.Start(r.onRTP, r.onRTCP)
	send := func(n int) {
		for i := range n {
			m.SendRTP(rtpPacket(uint16(i)))
		}
	}
	// sendToUnproven points the media at a new address and sends 100 packets: it gets the budget.
	sendToUnproven := func(what string) *net.UDPConn {
		conn, addr := loopbackUDP(t)
		m.SetRemote(addr, netip.AddrPortFrom(addr.Addr(), addr.Port()+1), false)
		send(100)
		if got := countArrivals(conn); got != UnprovenBudget {
			t.Errorf("%s got %d packets, want the budget %d", what, got, UnprovenBudget)
		}
		return conn
	}
	victim := sendToUnproven("the unproven address")
	if st := m.Stats(); st.Unproven != 100-UnprovenBudget {
		t.Errorf("%d held back, want %d", st.Unproven, 100-UnprovenBudget)
	}

	// The caller speaks from its SDP address: it is there, and hears everything.
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: m.Port()}
	victim.WriteToUDP(rtpFrom(0, 1, 0xCA11), dst)
	awaitStats(t, m, func(s MediaStats) bool { return s.RTPIn == 1 })
	send(40)
	if got := countArrivals(victim); got != 40 {
		t.Errorf("the proven caller got %d of 40 packets", got)
	}

	// A re-INVITE points the media elsewhere: the new address must show itself too.
	sendToUnproven("the re-INVITE's address")
}

// TestMediaSocketNATLatchOnlyFromTheSignallingHost: a caller behind NAT puts its private address
// in its SDP, so its media may come from anywhere; a stranger who sprays the port range with
// well-formed in-sequence packets before the caller's first must not take the call. With the
// signalling host named (SetNATHost), only that host earns the latch.
func TestMediaSocketNATLatchOnlyFromTheSignallingHost(t *testing.T) {
	m, r := openMedia(t)
	m.SetRemote(netip.MustParseAddrPort("10.1.2.3:4000"), netip.MustParseAddrPort("10.1.2.3:4001"), false)
	m.SetPayloadTypes(0)
	m.SetNATHost(netip.MustParseAddr("127.0.0.2"))
	m.Start(r.onRTP, r.onRTCP)
	stranger, _ := loopbackUDP(t) // 127.0.0.1
	caller, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Skipf("no 127.0.0.2 here: %v", err)
	}
	defer caller.Close()
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: m.Port()}
	for i := range 3 * LatchRun {
		stranger.WriteToUDP(rtpFrom(0, uint16(i), 0xBAD), dst)
	}
	awaitStats(t, m, func(s MediaStats) bool { return s.Strangers == 3*LatchRun })
	if st := m.Stats(); st.Latches != 0 || st.RTPIn != 0 {
		t.Fatalf("the stranger latched: %+v", st)
	}
	for i := range LatchRun + 1 {
		caller.WriteToUDP(rtpFrom(0, uint16(100+i), 0xCA11), dst)
	}
	st := awaitStats(t, m, func(s MediaStats) bool { return s.RTPIn == 2 })
	if st.Latches != 1 {
		t.Fatalf("the caller behind NAT did not latch: %+v", st)
	}
	if src, ok := m.Source(); !ok || src.Addr() != netip.MustParseAddr("127.0.0.2") {
		t.Errorf("source %v, want the signalling host", src)
	}
}

// TestMediaStatsLogAsAttributes: the "call ended" line carries the media counters as attributes
// a JSON log collector can query (media.rtp_in), not a %v-formatted struct in one string, and
// it leaves none of the counters out.
func TestMediaStatsLogAsAttributes(t *testing.T) {
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("call ended", "media", MediaStats{RTPIn: 250, RTPOut: 249, Strangers: 3})
	var line struct {
		Media map[string]uint64 `json:"media"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%s: %v", buf.Bytes(), err)
	}
	if line.Media["rtp_in"] != 250 || line.Media["rtp_out"] != 249 || line.Media["strangers"] != 3 ||
		len(line.Media) != reflect.TypeFor[MediaStats]().NumField() {
		t.Errorf("media attributes %v from %s", line.Media, buf.Bytes())
	}
}
