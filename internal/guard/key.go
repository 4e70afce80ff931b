package guard

import (
	"net/netip"
	"strings"
)

// A source is seen two ways, and each has its own type so that one cannot stand for the other:
//
//   - its address (netip.Addr, as it came, IPv4-mapped unmapped): who it is. Trusted addresses
//     (trunks, the other nodes of a cluster) are single addresses or prefixes of any length, an
//     IPv6 /128 among them, so they are matched against the address itself.
//   - its Key (the address folded to its /64 for IPv6): what its counts are kept under. One
//     IPv6 host holds a whole /64, so a limit per address would be a limit per nothing.
//
// Admission and the other limits take the address and fold it themselves; a Key is only a
// name to count under (Attempts, logs).

// Key is the key one source's counts are kept under: its address without zone, IPv4-mapped
// addresses unmapped, IPv6 folded to its /64.
type Key struct{ a netip.Addr }

// String is the key's address ("2001:db8:1:2::" for an IPv6 /64).
func (k Key) String() string { return k.a.String() }

// Source is the Key of the source at a.
func Source(a netip.Addr) Key {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return Key{p.Addr()}
	}
	return Key{a}
}

// SourceOf is the Key of a "host:port" or "host" string; the zero Key when it does not parse
// (every unparsable source then shares one key, which is the safe side).
func SourceOf(remote string) Key { return Source(SourceAddr(remote)) }

// SourceAddr is the address of a "host:port" or "host" string as it came (IPv4-mapped
// unmapped, without zone): who the source is, for Admission and trust. The zero Addr when it
// does not parse.
func SourceAddr(remote string) netip.Addr {
	a, _ := AddrOf(remote)
	return a.Unmap().WithZone("")
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

// callerSep separates a trunk's key from the caller behind it in a CallerKey.
const callerSep = "|"

// CallerKey is the name one caller behind a trunk is counted under by Attempts: the trunk's Key
// and the caller's From user, so that one caller on a PBX or SBC cannot lock out the others.
// Attempts reads the trunk back out of it (trunkOf): the From user is the caller's to choose,
// so every caller behind a trunk whose callers have failed lately is treated as having failed.
func CallerKey(trunk Key, caller string) string { return trunk.String() + callerSep + caller }

// trunkOf returns the trunk's part of a CallerKey, and false for any other name.
func trunkOf(who string) (string, bool) {
	trunk, _, ok := strings.Cut(who, callerSep)
	return trunk, ok
}
