package sipleg

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"confd/bridge"
)

// testServer is a running Server on loopback with a real bridge.
type testServer struct {
	*Server
	bridge *bridge.Bridge
	ports  *PortAllocator
	udp    net.PacketConn
	tcp    net.Listener
	done   chan error
}

func quietLogger() *slog.Logger {
	if os.Getenv("SIPLEG_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// listenUDPAndTCP opens a UDP and a TCP listener on one free loopback port. The kernel picks
// the UDP port, which a TCP socket (another test's connection) may hold: then it tries again.
func listenUDPAndTCP(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 50 {
		udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		tcp, err := net.Listen("tcp4", udp.LocalAddr().String())
		if err == nil {
			return udp, tcp
		}
		udp.Close()
	}
	t.Fatal("no loopback port free for both UDP and TCP")
	return nil, nil
}

// startServer runs a Server with a real bridge of rooms on a loopback UDP and TCP port until
// the test ends.
func startServer(t testing.TB, cfg Config, rooms map[string]bridge.RoomSettings) *testServer {
	t.Helper()
	udp, tcp := listenUDPAndTCP(t)
	return serveOn(t, cfg, rooms, udp, tcp)
}

// serveOn is startServer on listeners of the test's own (tcp may be nil).
func serveOn(t testing.TB, cfg Config, rooms map[string]bridge.RoomSettings, udp net.PacketConn, tcp net.Listener) *testServer {
	t.Helper()
	b := bridge.New(bridge.Config{Rooms: rooms}, bridge.WithLogger(quietLogger()))
	if cfg.Ports == nil {
		cfg.Ports = testAllocator(t)
	}
	if cfg.Limits == (Limits{}) {
		// Every test caller is on 127.0.0.1: the per-source limits are the flood tests'
		// subject (security_test.go), not the other tests'.
		cfg.Limits = Limits{InviteRate: 1000, RequestRate: 10000, CallsPerSource: 1000, PendingPerSource: 1000}
	}
	s, err := NewServer(b, cfg, WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: s, bridge: b, ports: cfg.Ports, udp: udp, tcp: tcp, done: make(chan error, 1)}
	go func() { ts.done <- s.Serve(context.Background(), udp, tcp) }()
	for !s.Addr().IsValid() {
		time.Sleep(time.Millisecond)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		<-ts.done
		b.Close()
	})
	return ts
}

// rawClient sends raw SIP text over UDP or TCP and reads responses.
type rawClient struct {
	t       testing.TB
	network string
	udp     *net.UDPConn
	tcp     net.Conn
	srv     *net.UDPAddr
	buf     []byte
	pending []byte
}

func newRawClient(t testing.TB, network string, ts *testServer) *rawClient {
	c := &rawClient{t: t, network: network, buf: make([]byte, 65536)}
	addr := ts.Addr()
	c.srv = net.UDPAddrFromAddrPort(addr)
	if network == "udp" {
		c.udp, _ = loopbackUDP(t)
	} else {
		conn, err := net.Dial("tcp4", addr.String())
		if err != nil {
			t.Fatal(err)
		}
		c.tcp = conn
		t.Cleanup(func() { conn.Close() })
	}
	return c
}

func (c *rawClient) localAddr() string {
	if c.udp != nil {
		return c.udp.LocalAddr().String()
	}
	return c.tcp.LocalAddr().String()
}

func (c *rawClient) send(msg []byte) {
	if c.udp != nil {
		c.udp.WriteToUDP(msg, c.srv)
	} else {
		c.tcp.Write(msg)
	}
}

// read returns the next response, skipping 1xx, or nil after timeout.
func (c *rawClient) read(timeout time.Duration) *sip.Response {
	deadline := time.Now().Add(timeout)
	for {
		var data []byte
		if c.udp != nil {
			c.udp.SetReadDeadline(deadline)
			n, _, err := c.udp.ReadFromUDP(c.buf)
			if err != nil {
				return nil
			}
			data = c.buf[:n]
		} else {
			for {
				if msg, rest, ok := (&validatingConn{in: c.pending}).next(); ok && len(bytes.TrimSpace(msg)) > 0 {
					c.pending = rest
					data = msg
					break
				} else if ok {
					c.pending = rest
					continue
				}
				c.tcp.SetReadDeadline(deadline)
				n, err := c.tcp.Read(c.buf)
				if err != nil {
					return nil
				}
				c.pending = append(c.pending, c.buf[:n]...)
			}
		}
		m, err := sip.NewParser().ParseSIP(data)
		if err != nil {
			// An answer to a broken request echoes its broken headers: read the status line.
			var code int
			var reason string
			if _, err := fmt.Sscanf(string(data), "SIP/2.0 %d %s", &code, &reason); err != nil {
				c.t.Fatalf("unparsable answer %q", data)
			}
			return &sip.Response{StatusCode: code, Reason: reason}
		}
		res, ok := m.(*sip.Response)
		if !ok {
			// A request from the server (BYE): answer it 200 and go on.
			if req, ok := m.(*sip.Request); ok && req.Method != sip.ACK {
				c.send([]byte(sip.NewResponseFromRequest(req, 200, "OK", nil).String()))
			}
			continue
		}
		if res.StatusCode >= 200 {
			return res
		}
	}
}

// inDialog writes an ACK or BYE for the dialog a 2xx response established.
func (c *rawClient) inDialog(method string, res *sip.Response, cseq uint32) []byte {
	target := "sip:confd@" + c.srv.String()
	if ct := res.Contact(); ct != nil {
		target = ct.Address.String()
	}
	transport := strings.ToUpper(c.network)
	return []byte(fmt.Sprintf("%s %s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=z9hG4bK%s%d%d\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\n"+
		"CSeq: %d %s\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		method, target, transport, c.localAddr(), method, cseq, time.Now().UnixNano(), res.From().Value(), res.To().Value(),
		res.CallID().Value(), cseq, method))
}

var (
	viaLine       = regexp.MustCompile(`(?im)^(via|v)[ \t]*:.*(\r\n[ \t]+.*)*\r\n`)
	contentLength = regexp.MustCompile(`(?im)^(content-length|l)[ \t]*:[ \t]*\d+`)
)

// routable rewrites a torture message so that responses reach the test: the top Via names the
// test's socket (RFC 3261 section 18.2.2 answers to the Via port over UDP), and SDP addresses
// of the documentation range point at loopback (traffic only to 127.0.0.1).
func routable(msg []byte, via string) []byte {
	head, body, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	done := false
	head = viaLine.ReplaceAllFunc(append(head, "\r\n"...), func(m []byte) []byte {
		if done {
			return m
		}
		done = true
		return []byte("Via: SIP/2.0/UDP " + via + ";branch=z9hG4bK-torture" + fmt.Sprint(time.Now().UnixNano()) + "\r\n")
	})
	head = head[:len(head)-2]
	body = regexp.MustCompile(`192\.0\.2\.\d`).ReplaceAll(body, []byte("127.0.0.1"))
	return append(append(head, "\r\n\r\n"...), body...)
}

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
