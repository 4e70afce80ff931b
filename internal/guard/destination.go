package guard

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Destination is an address prefix and a port range that confd may send to unasked: an entry of
// an allow-list such as [forwarders] allow (RTP forwarders send to an address that never proved
// it wants the packets).
type Destination struct {
	Prefix    netip.Prefix
	Low, High uint16 // the port range, both ends included
}

// Contains reports whether ap is within the destination (an IPv4-mapped address as its IPv4).
func (d Destination) Contains(ap netip.AddrPort) bool {
	return d.Prefix.Contains(ap.Addr().Unmap()) && ap.Port() >= d.Low && ap.Port() <= d.High
}

// ParseDestination parses one allow-list entry: "PREFIX" (every port of the addresses in it),
// "PREFIX:PORT" or "PREFIX:LOW-HIGH", where PREFIX is an address or a CIDR prefix ("127.0.0.1",
// "10.0.0.0/8", read by ParsePrefix; an IPv6 address in brackets when it has a port: "[::1]:5004").
func ParseDestination(s string) (Destination, error) {
	bad := func(why string) (Destination, error) {
		return Destination{}, fmt.Errorf("%q: %s (want PREFIX, PREFIX:PORT or PREFIX:LOW-HIGH, e.g. \"10.0.0.0/8:5000-6000\")", s, why)
	}
	addr, ports, hasPorts := s, "", false
	switch {
	case strings.HasPrefix(s, "["): // [v6]:ports or [v6/len]:ports
		end := strings.Index(s, "]")
		if end < 0 {
			return bad("no closing bracket")
		}
		addr, ports = s[1:end], strings.TrimPrefix(s[end+1:], ":")
		hasPorts = s[end+1:] != ""
		if rest := s[end+1:]; rest != "" && !strings.HasPrefix(rest, ":") {
			return bad("a port must follow the bracket after a colon")
		}
	case strings.Contains(s, "/"): // prefix, then perhaps :ports after the length
		slash := strings.Index(s, "/")
		if i := strings.Index(s[slash:], ":"); i >= 0 {
			addr, ports, hasPorts = s[:slash+i], s[slash+i+1:], true
		}
	case strings.Count(s, ":") == 1: // v4:ports
		addr, ports, hasPorts = strings.Cut(s, ":")
	}
	// A colon with nothing after it was read as every port (red team, issue 13): say so
	// instead, since "10.0.0.1:" is more likely a port left out than all of them meant.
	if hasPorts && ports == "" {
		return bad("no port after the colon")
	}
	p, err := ParsePrefix(addr)
	if err != nil {
		return bad(err.Error())
	}
	d := Destination{Prefix: p, Low: 1, High: 65535}
	if ports != "" {
		lo, hi, isRange := strings.Cut(ports, "-")
		if !isRange {
			hi = lo
		}
		l, err1 := strconv.ParseUint(lo, 10, 16)
		h, err2 := strconv.ParseUint(hi, 10, 16)
		if err1 != nil || err2 != nil || l == 0 || l > h {
			return bad("bad port or port range")
		}
		d.Low, d.High = uint16(l), uint16(h)
	}
	return d, nil
}
