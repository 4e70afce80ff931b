package guard

import "net/netip"

// Source is the key of one source: the address without port, IPv4-mapped addresses unmapped,
// IPv6 folded to its /64.
func Source(a netip.Addr) netip.Addr {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// SourceOf is Source of a "host:port" or "host" string; the zero Addr when it does not parse
// (every unparsable source then shares one key, which is the safe side).
func SourceOf(remote string) netip.Addr {
	if a, ok := AddrOf(remote); ok {
		return Source(a)
	}
	return netip.Addr{}
}

// AddrOf is the address of a "host:port" or "host" string, as it came (not folded); false when
// it does not parse.
func AddrOf(remote string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr(), true
	}
	a, err := netip.ParseAddr(remote)
	return a, err == nil
}
