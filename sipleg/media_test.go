package sipleg

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
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

func (r *received) onRTP(pkt []byte, now time.Time) {
	r.mu.Lock()
	r.rtp++
	r.mu.Unlock()
	select {
	case r.got <- struct{}{}:
	default:
	}
}

func (r *received) onRTCP(pkt []byte, now time.Time) {
	r.mu.Lock()
	r.rtcp++
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

func TestMediaSocketIsSymmetricAndStrict(t *testing.T) {
	a := testAllocator(t)
	m, err := a.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r := &received{got: make(chan struct{}, 100)}
	// The SDP claims a private address the caller is not really at (NAT).
	m.SetRemote(netip.MustParseAddrPort("127.0.0.1:9"), netip.MustParseAddrPort("127.0.0.1:10"), false)
	m.Start(r.onRTP, r.onRTCP)

	caller, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer caller.Close()
	stranger, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer stranger.Close()
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: m.Port()}

	caller.WriteToUDP(rtpPacket(1), dst)
	<-r.got
	for i := range 5 {
		stranger.WriteToUDP(rtpPacket(uint16(100+i)), dst)
	}
	caller.WriteToUDP(rtpPacket(2), dst)
	<-r.got
	deadline := time.Now().Add(2 * time.Second)
	for m.Stats().Strangers < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	st := m.Stats()
	if st.RTPIn != 2 || st.Strangers != 5 {
		t.Fatalf("stats %+v: want 2 accepted and 5 strangers dropped", st)
	}
	// Symmetric: what confd sends goes to the caller's real address.
	m.SendRTP(rtpPacket(7))
	buf := make([]byte, 1500)
	caller.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, _, err := caller.ReadFromUDP(buf); err != nil || n != 172 {
		t.Fatalf("caller got %d bytes, %v", n, err)
	}
	stranger.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, _, err := stranger.ReadFromUDP(buf); err == nil {
		t.Fatal("the stranger received the room's audio")
	}
	if m.LastRTP().IsZero() {
		t.Fatal("LastRTP not set")
	}
	// Hold: nothing is sent.
	m.SetSending(false)
	m.SendRTP(rtpPacket(8))
	if m.Stats().SendDrops != 1 {
		t.Fatalf("send while on hold not dropped: %+v", m.Stats())
	}
}

func TestMediaSocketRTCPMuxAndRTCPPort(t *testing.T) {
	a := testAllocator(t)
	m, _ := a.Open()
	defer m.Close()
	r := &received{got: make(chan struct{}, 100)}
	caller, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer caller.Close()
	ap := caller.LocalAddr().(*net.UDPAddr).AddrPort()
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
	time.Sleep(20 * time.Millisecond)
	if st := m.Stats(); st.RTCPIn != 2 || st.Malformed != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestMediaSocketSendAllocatesNothing(t *testing.T) {
	a := testAllocator(t)
	m, _ := a.Open()
	defer m.Close()
	sink, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer sink.Close()
	ap := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	m.SetRemote(ap, ap, false)
	pkt := rtpPacket(1)
	if n := testing.AllocsPerRun(200, func() { m.SendRTP(pkt) }); n != 0 {
		t.Fatalf("SendRTP allocates %v times", n)
	}
	if n := testing.AllocsPerRun(200, func() {
		m.input(pkt, ap, time.Time{}, false)
	}); n != 0 {
		t.Fatalf("input allocates %v times", n)
	}
}

func BenchmarkMediaSocketSendRTP(b *testing.B) {
	a := testAllocator(b)
	m, _ := a.Open()
	defer m.Close()
	sink, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer sink.Close()
	ap := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	m.SetRemote(ap, ap, false)
	pkt := rtpPacket(1)
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
		m.onRTP = func(p []byte, _ time.Time) {
			if classify(p) != kindRTP {
				t.Fatalf("non-RTP %x delivered as RTP", p)
			}
		}
		m.onRTCP = func(p []byte, _ time.Time) {
			if classify(p) != kindRTCP {
				t.Fatalf("non-RTCP %x delivered as RTCP", p)
			}
		}
		m.input(pkt, src, time.Time{}, rtcpPort)
		m.input(pkt, netip.MustParseAddrPort("127.0.0.2:4000"), time.Time{}, rtcpPort)
		if m.Stats().RTPIn+m.Stats().RTCPIn > 1 {
			t.Fatal("a stranger's packet was accepted")
		}
	})
}
