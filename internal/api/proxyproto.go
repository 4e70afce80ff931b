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
// is optional, so that the proxy's own requests and the nodes' need none.

// ErrProxyHeader is returned (and the connection closed) for a connection from a trusted proxy
// that begins a PROXY protocol header it does not finish well.
var ErrProxyHeader = errors.New("api: malformed PROXY protocol header")

// proxyHeaderTimeout bounds the wait for a trusted proxy's header, which it sends at once.
const proxyHeaderTimeout = 5 * time.Second

// proxyV2Signature opens a version 2 header (section 2.2).
var proxyV2Signature = []byte("\r\n\r\n\x00\r\nQUIT\n")

// maxProxyV1 is the longest version 1 header, "PROXY TCP6 " and two full IPv6 addresses and
// ports with CRLF (section 2.1).
const maxProxyV1 = 107

// maxProxyV2 bounds a version 2 header's address block and TLVs: confd reads the addresses
// and skips the TLVs (HAProxy sends a few dozen bytes of them at most).
const maxProxyV2 = 512

// readProxyHeader reads a PROXY protocol header from the start of br, if one is there, and
// returns the client it names. ok is false when the connection does not begin with a header (a
// request of the proxy's own), or the header names no client (v1 UNKNOWN, v2 LOCAL: a health
// check; an address family other than TCP over IPv4 or IPv6). A header begun and not finished
// well is ErrProxyHeader. It consumes the header and nothing more.
func readProxyHeader(br *bufio.Reader) (client netip.AddrPort, ok bool, err error) {
	first, err := br.Peek(1)
	if err != nil {
		return client, false, err
	}
	switch first[0] {
	case 'P':
		if b, err := br.Peek(6); err != nil || string(b) != "PROXY " {
			return client, false, nil // POST, PUT, PATCH: a request of the proxy's own
		}
		return readProxyV1(br)
	case '\r':
		if b, err := br.Peek(len(proxyV2Signature)); err != nil || !bytes.Equal(b, proxyV2Signature) {
			return client, false, nil
		}
		return readProxyV2(br)
	}
	return client, false, nil
}

// readProxyV1 reads "PROXY TCP4|TCP6 src dst sport dport\r\n" or "PROXY UNKNOWN…\r\n".
func readProxyV1(br *bufio.Reader) (netip.AddrPort, bool, error) {
	var line []byte
	for len(line) <= maxProxyV1 {
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
	ip, err := netip.ParseAddr(f[2])
	port, perr := strconv.ParseUint(f[4], 10, 16)
	if err != nil || perr != nil || ip.Is4() != (f[1] == "TCP4") || ip.Zone() != "" {
		return netip.AddrPort{}, false, ErrProxyHeader
	}
	return netip.AddrPortFrom(ip, uint16(port)), true, nil
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
	if n > maxProxyV2 {
		return netip.AddrPort{}, false, ErrProxyHeader
	}
	var buf [maxProxyV2]byte
	body := buf[:n]
	if _, err := io.ReadFull(br, body); err != nil {
		return netip.AddrPort{}, false, ErrProxyHeader
	}
	if head[12]&0x0f == 0 { // LOCAL: the proxy's own connection (a health check)
		return netip.AddrPort{}, false, nil
	}
	switch head[13] {
	case 0x11: // TCP over IPv4: source, destination, source port, destination port
		if n < 12 {
			return netip.AddrPort{}, false, ErrProxyHeader
		}
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(body[0:4])), binary.BigEndian.Uint16(body[8:10])), true, nil
	case 0x21: // TCP over IPv6
		if n < 36 {
			return netip.AddrPort{}, false, ErrProxyHeader
		}
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(body[0:16])), binary.BigEndian.Uint16(body[32:34])), true, nil
	}
	return netip.AddrPort{}, false, nil // UNSPEC, UDP, UNIX: no client of ours to name
}

// proxiedConn is a connection from a trusted proxy. Its header is read, and its place taken
// under the limits of the client it names (or of the proxy, without a header), on its own
// goroutine when the HTTP server first asks for its RemoteAddr or reads it: never on the
// accepting one, which a slow proxy would hold up.
type proxiedConn struct {
	net.Conn
	l  *ConnLimiter
	br *bufio.Reader

	once   sync.Once
	remote net.Addr
	err    error

	mu       sync.Mutex
	admitted netip.Addr // the source whose place the connection holds, when valid
	closed   bool
}

// start reads the header and takes the connection's place, once.
func (c *proxiedConn) start() {
	c.once.Do(func() {
		c.remote = c.Conn.RemoteAddr()
		_ = c.Conn.SetReadDeadline(time.Now().Add(proxyHeaderTimeout))
		client, ok, err := readProxyHeader(c.br)
		_ = c.Conn.SetReadDeadline(time.Time{})
		if err != nil {
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
	return c.br.Read(p)
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
