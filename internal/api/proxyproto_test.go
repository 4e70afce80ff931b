package api

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"confd/testkit"
)

// proxyV2 is a version 2 header: command 1 (PROXY) or 0 (LOCAL), family 0x11 or 0x21, from
// src to 192.0.2.99:443 (or [2001:db8::99]:443), with a TLV after the addresses.
func proxyV2(cmd, family byte, src netip.AddrPort) []byte { return proxyV2TLV(cmd, family, src, 1) }

// proxyV2TLV is proxyV2 with a TLV of tlv bytes of value.
func proxyV2TLV(cmd, family byte, src netip.AddrPort, tlv int) []byte {
	var addrs []byte
	switch family {
	case 0x11:
		dst := [4]byte{192, 0, 2, 99}
		a := src.Addr().As4()
		addrs = append(append(addrs, a[:]...), dst[:]...)
	case 0x21:
		dst := netip.MustParseAddr("2001:db8::99").As16()
		a := src.Addr().As16()
		addrs = append(append(addrs, a[:]...), dst[:]...)
	}
	addrs = binary.BigEndian.AppendUint16(addrs, src.Port())
	addrs = binary.BigEndian.AppendUint16(addrs, 443)
	addrs = append(addrs, 0x04, byte(tlv>>8), byte(tlv)) // a TLV (PP2_TYPE_NOOP), skipped
	addrs = append(addrs, bytes.Repeat([]byte{'x'}, tlv)...)
	h := append(append([]byte{}, proxyV2Signature...), 0x20|cmd, family)
	h = binary.BigEndian.AppendUint16(h, uint16(len(addrs)))
	return append(h, addrs...)
}

// TestProxyHeaderNamesTheClient: HAProxy's PROXY protocol headers, version 1 and 2, name the
// client; a health check's (v1 UNKNOWN, v2 LOCAL) names none; no header, or a broken one, is
// ErrProxyHeader (a listed proxy sends one on every connection: section 2 forbids guessing);
// and what follows the header is read whole, from its first byte.
func TestProxyHeaderNamesTheClient(t *testing.T) {
	const request = "GET /api/info HTTP/1.1\r\nHost: x\r\n\r\n"
	v4, v6 := netip.MustParseAddrPort("203.0.113.7:51000"), netip.MustParseAddrPort("[2001:db8::7]:51000")
	for _, tc := range []struct {
		name   string
		header string
		client netip.AddrPort
		err    error
	}{
		{"v1 TCP4", "PROXY TCP4 203.0.113.7 192.0.2.99 51000 443\r\n", v4, nil},
		{"v1 TCP6", "PROXY TCP6 2001:db8::7 2001:db8::99 51000 443\r\n", v6, nil},
		{"v1 UNKNOWN", "PROXY UNKNOWN\r\n", netip.AddrPort{}, nil},
		{"v2 TCP4", string(proxyV2(1, 0x11, v4)), v4, nil},
		{"v2 TCP6", string(proxyV2(1, 0x21, v6)), v6, nil},
		{"v2 LOCAL", string(proxyV2(0, 0x11, v4)), netip.AddrPort{}, nil},
		{"v2 with 2 KiB of TLVs", string(proxyV2TLV(1, 0x11, v4, 2048)), v4, nil},
		{"none: a request", "", netip.AddrPort{}, ErrProxyHeader},
		{"v1 bad destination", "PROXY TCP4 203.0.113.7 192.0.2.99 51000 HTTP/1.1\r\n", netip.AddrPort{}, ErrProxyHeader},
		{"v1 TCP6 v4-mapped", "PROXY TCP6 ::ffff:203.0.113.7 2001:db8::99 51000 443\r\n", netip.AddrPort{}, ErrProxyHeader},
		{"v1 without CRLF", "PROXY TCP4 203.0.113.7 192.0.2.99 51000 443\n", netip.AddrPort{}, ErrProxyHeader},
		{"v1 too long", "PROXY TCP4 " + strings.Repeat("1", 120) + "\r\n", netip.AddrPort{}, ErrProxyHeader},
		{"v1 IPv6 as TCP4", "PROXY TCP4 2001:db8::7 192.0.2.99 51000 443\r\n", netip.AddrPort{}, ErrProxyHeader},
		{"v1 bad port", "PROXY TCP4 203.0.113.7 192.0.2.99 99999 443\r\n", netip.AddrPort{}, ErrProxyHeader},
		{"v2 version 3", string(append(append([]byte{}, proxyV2Signature...), 0x31, 0x11, 0, 0)), netip.AddrPort{}, ErrProxyHeader},
		{"v2 short addresses", string(append(append([]byte{}, proxyV2Signature...), 0x21, 0x11, 0, 4, 1, 2, 3, 4)), netip.AddrPort{}, ErrProxyHeader},
		{"v2 over-long", string(append(append([]byte{}, proxyV2Signature...), 0x21, 0x11, 0xff, 0xff)), netip.AddrPort{}, ErrProxyHeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rest := request
			br := bufio.NewReaderSize(strings.NewReader(tc.header+rest), proxyHeaderBuffer)
			client, ok, err := readProxyHeader(br)
			if !errors.Is(err, tc.err) || client != tc.client || ok != tc.client.IsValid() {
				t.Fatalf("client %v ok %v err %v, want %v, %v", client, ok, err, tc.client, tc.err)
			}
			if err != nil {
				return
			}
			if after, _ := io.ReadAll(br); string(after) != rest {
				t.Errorf("after the header: %q, want %q", after, rest)
			}
		})
	}
}

// TestProxyHeaderKeepsTheCallersDeadline: a deadline set before the header is read bounds the
// header's read too, and is the connection's again once the header is read (the header's own
// deadline must not clear it).
func TestProxyHeaderKeepsTheCallersDeadline(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	c := newProxiedConn(server, LimitConns(nil, ServerLimits{}, nil))
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	go io.WriteString(client, "PROXY TCP4 203.0.113.7 192.0.2.99 51000 443\r\n")
	start := time.Now()
	_, err := c.Read(make([]byte, 10)) // nothing follows the header: the caller's deadline ends it
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || time.Since(start) > 2*time.Second {
		t.Errorf("a read after the header: %v after %v, want the caller's deadline (200 ms)", err, time.Since(start))
	}
}

// FuzzReadProxyHeader: whatever a trusted proxy sends, the reader returns a client only with
// no error, never reads past a header into what follows more than it consumed, and never panics.
func FuzzReadProxyHeader(f *testing.F) {
	f.Add([]byte("PROXY TCP4 203.0.113.7 192.0.2.99 51000 443\r\nGET / HTTP/1.1\r\n\r\n"))
	f.Add(proxyV2(1, 0x21, netip.MustParseAddrPort("[2001:db8::7]:51000")))
	f.Add([]byte("PROXY UNKNOWN\r\n"))
	f.Add(append(append([]byte{}, proxyV2Signature...), 0x21, 0x11, 0, 12))
	f.Fuzz(func(t *testing.T, b []byte) {
		client, ok, err := readProxyHeader(bufio.NewReader(strings.NewReader(string(b))))
		if ok && (err != nil || !client.IsValid()) {
			t.Fatalf("client %v ok with err %v", client, err)
		}
	})
}

// TestTrustedProxysClientsAreSourcesOfTheirOwn: behind a proxy that sends the PROXY protocol
// (HAProxy's send-proxy-v2), each client is a source of its own for the per-source cap and is
// the request's RemoteAddr (WHIP's and SIP over WebSocket's limits and PIN guesses read it);
// the proxy's health check (a LOCAL header) is its own; a listed proxy's connection without a
// header, or with a broken one, is closed unanswered; and a header from an address not listed is
// not believed: it is a bad request line.
func TestTrustedProxysClientsAreSourcesOfTheirOwn(t *testing.T) {
	lim := testLimits
	lim.MaxConnsPerSource = 1
	lim.ProxyProtocolFrom = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.RemoteAddr) })
	var logged testkit.LockedBuffer
	addr, ln := serveWith(t, echo, lim, slog.New(slog.NewTextHandler(&logged, nil)))

	// ask opens a connection, sends header and a request, and returns the answer's body ("" for
	// a connection closed unanswered); the connection stays open until the test ends.
	ask := func(header string) string {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, header+"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return ""
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 100))
		return resp.Status + " " + string(body)
	}
	if got := ask("PROXY TCP4 203.0.113.7 192.0.2.99 51000 443\r\n"); got != "200 OK 203.0.113.7:51000" {
		t.Errorf("a client through the proxy: %q, want its own address", got)
	}
	if got := ask(string(proxyV2(1, 0x11, netip.MustParseAddrPort("203.0.113.8:52000")))); got != "200 OK 203.0.113.8:52000" {
		t.Errorf("another client, v2: %q, want its own address (a source of its own)", got)
	}
	if got := ask("PROXY TCP4 203.0.113.7 192.0.2.99 51001 443\r\n"); got != "" {
		t.Errorf("the first client's second connection, over its cap of 1: %q, want it closed", got)
	}
	if got := ask(string(proxyV2(0, 0x11, netip.MustParseAddrPort("127.0.0.1:1")))); !strings.HasPrefix(got, "200 OK 127.0.0.1:") {
		t.Errorf("the proxy's health check: %q, want the proxy's address", got)
	}
	if got := ask(""); got != "" {
		t.Errorf("the listed proxy's connection without a header: %q, want it closed", got)
	}
	if got := ask("PROXY TCP4 203.0.113.9 192.0.2.99 51000\r\n"); got != "" {
		t.Errorf("a broken header: %q, want the connection closed", got)
	}
	if n, bad := ln.Refused(), ln.BadProxyHeaders(); n != 1 || bad != 2 {
		t.Errorf("%d connections refused and %d for their headers, want the one over its client's cap and the two without a good header", n, bad)
	}
	if n := strings.Count(logged.String(), "without a good PROXY protocol header"); n != 2 {
		t.Errorf("%d warnings logged for the two connections without a good header, want 2:\n%s", n, logged.String())
	}

	stranger, _ := serve(t, echo, 8) // no proxy listed: 127.0.0.1 is a client like any
	c, err := net.Dial("tcp", stranger)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "PROXY TCP4 203.0.113.7 192.0.2.99 51000 443\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a PROXY header from an address not listed: %v %v, want 400", resp, err)
	}
}
