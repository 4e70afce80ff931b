package api

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"confd/internal/guard"
)

// A proxy in front of confd (HAProxy, the README's "Several nodes") makes every browser's
// connection come from the proxy's address: without more, each per-source limit (connections,
// WHIP sessions, SIP over WebSocket connections, PIN guesses) would hold all of the proxy's
// clients together, and the 17th browser behind it would be refused. A proxy listed in
// ServerLimits.ProxyProtocolFrom may begin each connection with a PROXY protocol header (HAProxy's
// send-proxy or send-proxy-v2: https://www.haproxy.org/download/2.8/doc/proxy-protocol.txt) that
// names the client; the connection's RemoteAddr is then the client, and so are its limits. Only
// a listed address is read this way (anyone else could name any client), and from it the header
// is required, on every connection (the proxy's health checks send one too, check-send-proxy): the
// protocol's section 2 forbids guessing, since a listed host that ever relayed a client's bytes
// raw would let the client write a header of its own.

// ErrProxyHeader is returned (and the connection closed) for a connection from a trusted proxy
// that does not begin with a well-formed PROXY protocol header.
var ErrProxyHeader = errors.New("api: malformed PROXY protocol header")

// proxyHeaderTimeout bounds the wait for a trusted proxy's header, which it sends at once.
const proxyHeaderTimeout = 5 * time.Second

// proxyV2Signature opens a version 2 header (section 2.2).
var proxyV2Signature = []byte("\r\n\r\n\x00\r\nQUIT\n")

// maxProxyV1 is the longest version 1 header, "PROXY TCP6 " and two full IPv6 addresses and
// ports with CRLF (section 2.1).
const maxProxyV1 = 107

// proxyV2Addresses is the size of a version 2 header's addresses for TCP over IPv4 and over
// IPv6: source, destination, source port, destination port (section 2.2). What follows them
// (TLVs: a TLS session's details, a unique id; up to the header's length, at most 64 KiB) is
// skipped.
const (
	proxyV2IPv4 = 12
	proxyV2IPv6 = 36
)

// readProxyHeader reads the PROXY protocol header that begins br and returns the client it
// names. ok is false when the header names no client (v1 UNKNOWN, v2 LOCAL: a health check; an
// address family other than TCP over IPv4 or IPv6): the connection is the proxy's own. No
// header, or one not well formed, is ErrProxyHeader. It consumes the header and nothing more.
func readProxyHeader(br *bufio.Reader) (client netip.AddrPort, ok bool, err error) {
	if b, err := br.Peek(6); err == nil && string(b) == "PROXY " {
		return readProxyV1(br)
	}
	if b, err := br.Peek(len(proxyV2Signature)); err == nil && bytes.Equal(b, proxyV2Signature) {
		return readProxyV2(br)
	}
	return client, false, ErrProxyHeader
}

// readProxyV1 reads "PROXY TCP4|TCP6 src dst sport dport\r\n" or "PROXY UNKNOWN…\r\n".
func readProxyV1(br *bufio.Reader) (netip.AddrPort, bool, error) {
	var line []byte
	for len(line) < maxProxyV1 {
		b, err := br.ReadByte()
		if err != nil {
			return netip.AddrPort{}, false, ErrProxyHeader
		}
		line = append(line, b)
		if b == '\n' {
			break
		}
	}
	s, found := strings.CutSuffix(string(line), "\r\n")
	if !found {
		return netip.AddrPort{}, false, ErrProxyHeader
	}
	f := strings.Split(s, " ")
	if len(f) >= 2 && f[1] == "UNKNOWN" {
		return netip.AddrPort{}, false, nil
	}
	if len(f) != 6 || (f[1] != "TCP4" && f[1] != "TCP6") {
		return netip.AddrPort{}, false, ErrProxyHeader
	}
	src, ok := proxyV1Address(f[1], f[2], f[4])
	if _, dstOK := proxyV1Address(f[1], f[3], f[5]); !ok || !dstOK {
		return netip.AddrPort{}, false, ErrProxyHeader
	}
	return src, true, nil
}

// proxyV1Address reads one address and port of a v1 header of family TCP4 or TCP6: an IPv4
// address for TCP4, an IPv6 one (not IPv4-mapped) for TCP6, a port of 0-65535 in decimal.
func proxyV1Address(family, addr, port string) (netip.AddrPort, bool) {
	ip, err := netip.ParseAddr(addr)
	p, perr := strconv.ParseUint(port, 10, 16)
	if err != nil || perr != nil || ip.Zone() != "" || ip.Is4In6() || ip.Is4() != (family == "TCP4") {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip, uint16(p)), true
}

// readProxyV2 reads the binary header: the signature, version and command, family, length, and
// the addresses, skipping any TLVs.
func readProxyV2(br *bufio.Reader) (netip.AddrPort, bool, error) {
	var head [16]byte
	if _, err := io.ReadFull(br, head[:]); err != nil {
		return netip.AddrPort{}, false, ErrProxyHeader
	}
	if head[12]>>4 != 2 || head[12]&0x0f > 1 {
		return netip.AddrPort{}, false, ErrProxyHeader
	}
	n := int(binary.BigEndian.Uint16(head[14:16]))
	var client netip.AddrPort
	var addrs [proxyV2IPv6]byte
	want := 0 // the addresses read: none for LOCAL and for families that name no client of ours
	if head[12]&0x0f == 1 {
		switch head[13] {
		case 0x11:
			want = proxyV2IPv4
		case 0x21:
			want = proxyV2IPv6
		}
	}
	if n < want {
		return netip.AddrPort{}, false, ErrProxyHeader
	}
	if _, err := io.ReadFull(br, addrs[:want]); err != nil {
		return netip.AddrPort{}, false, ErrProxyHeader
	}
	if _, err := br.Discard(n - want); err != nil { // TLVs, or another family's addresses
		return netip.AddrPort{}, false, ErrProxyHeader
	}
	switch want {
	case proxyV2IPv4:
		client = netip.AddrPortFrom(netip.AddrFrom4([4]byte(addrs[0:4])), binary.BigEndian.Uint16(addrs[8:10]))
	case proxyV2IPv6:
		client = netip.AddrPortFrom(netip.AddrFrom16([16]byte(addrs[0:16])), binary.BigEndian.Uint16(addrs[32:34]))
	default: // LOCAL (a health check), UNSPEC, UDP, UNIX: the proxy's own
		return netip.AddrPort{}, false, nil
	}
	return client, true, nil
}

// proxiedConn is a connection from a trusted proxy. Its header is read, and its place taken
// under the limits of the client it names (or of the proxy, for its health check's), on its own
// goroutine when the HTTP server first asks for its RemoteAddr or reads it: never on the
// accepting one, which a slow proxy would hold up (so no http.Server ConnContext or ConnState
// hook may ask for RemoteAddr: those run on the accepting goroutine).
type proxiedConn struct {
	net.Conn
	l  *ConnLimiter
	br *bufio.Reader

	once   sync.Once
	remote net.Addr
	err    error

	mu           sync.Mutex
	admitted     netip.Addr // the source whose place the connection holds, when valid
	closed       bool
	readDeadline time.Time // the caller's, which the header's own deadline gives back
}

// proxyHeaderBuffer holds a header of either version while it is read (a v1 header is at most
// 107 bytes, v2's addresses are read into an array and its TLVs discarded); what the client sent
// after it is read from the connection itself once the buffer is empty.
const proxyHeaderBuffer = 128

// newProxiedConn wraps a connection of a trusted proxy's for l.
func newProxiedConn(c net.Conn, l *ConnLimiter) *proxiedConn {
	return &proxiedConn{Conn: c, l: l, br: bufio.NewReaderSize(c, proxyHeaderBuffer)}
}

// start reads the header and takes the connection's place, once.
func (c *proxiedConn) start() {
	c.once.Do(func() {
		c.remote = c.Conn.RemoteAddr()
		c.mu.Lock()
		restore := c.readDeadline
		c.mu.Unlock()
		headerBy := time.Now().Add(proxyHeaderTimeout)
		if !restore.IsZero() && restore.Before(headerBy) {
			headerBy = restore
		}
		_ = c.Conn.SetReadDeadline(headerBy)
		client, ok, err := readProxyHeader(c.br)
		_ = c.Conn.SetReadDeadline(restore)
		if err != nil {
			c.l.log.Warn("http: closed a connection from a proxy listed in proxy_protocol_from without a good PROXY protocol header (does it send send-proxy-v2?)",
				"proxy", c.remote.String(), "err", err)
			c.l.badHeaders.Add(1)
			c.refuse(err)
			return
		}
		if ok {
			c.remote = net.TCPAddrFromAddrPort(client)
		}
		src := guard.SourceAddr(c.remote.String())
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.closed {
			c.err = net.ErrClosed
			return
		}
		if err := c.l.adm.Acquire(src, time.Now()); err != nil {
			c.l.refused.Add(1)
			c.refuse(err)
			return
		}
		c.admitted = src
	})
}

// refuse ends the connection unanswered, with a reset as ConnLimiter.Accept does: the HTTP
// server would answer a read error 400.
func (c *proxiedConn) refuse(err error) {
	c.err = err
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Conn.Close()
}

// RemoteAddr is the client the proxy named, or the proxy.
func (c *proxiedConn) RemoteAddr() net.Addr {
	c.start()
	return c.remote
}

// Read reads what follows the header; a connection over its client's limits, or with a broken
// header, reads an error, and the server closes it.
func (c *proxiedConn) Read(p []byte) (int, error) {
	c.start()
	if c.err != nil {
		return 0, c.err
	}
	if c.br.Buffered() > 0 {
		return c.br.Read(p)
	}
	return c.Conn.Read(p)
}

// SetReadDeadline sets the connection's read deadline and remembers it, so that the header's
// own deadline, if the header is still to be read, gives it back.
func (c *proxiedConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.readDeadline = t
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(t)
}

// SetDeadline is SetReadDeadline and the write deadline.
func (c *proxiedConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.readDeadline = t
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}

// Close closes the connection and gives its place back.
func (c *proxiedConn) Close() error {
	err := c.Conn.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed && c.admitted.IsValid() {
		c.l.adm.Release(c.admitted)
	}
	c.closed = true
	return err
}
