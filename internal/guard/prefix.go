package guard

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ErrBadPrefix is returned by ParsePrefix for an entry that is neither an address nor an
// address prefix confd can match a peer against.
var ErrBadPrefix = errors.New("not an address or address prefix")

// ParsePrefix reads one address-or-prefix entry of a configured list (security.trunks, the
// address part of a Destination): "10.0.0.0/8" (masked) or an address, which is a prefix of its
// full length. Peers are compared unmapped (InPrefixes, Destination.Contains), so an
// IPv4-mapped IPv6 entry ("::ffff:10.0.0.0/104") means its IPv4 address or prefix instead of
// never matching (red team, issue 13); a mapped prefix shorter than /96 has no IPv4 meaning and
// is refused, as is a zone (an interface of this host, which no peer's address carries).
func ParsePrefix(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, fmt.Errorf("%w: %q", ErrBadPrefix, s)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return p, fmt.Errorf("%w: %q", ErrBadPrefix, s)
		}
		if a.Zone() != "" {
			return p, fmt.Errorf("%w: %q is an address with a zone", ErrBadPrefix, s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	switch a := p.Addr(); {
	case a.Is4In6() && p.Bits() < 96:
		return netip.Prefix{}, fmt.Errorf("%w: %q is an IPv4-mapped prefix shorter than /96", ErrBadPrefix, s)
	case a.Is4In6():
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}
