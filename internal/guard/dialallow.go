package guard

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// ErrBadDialAllow is returned by ParseDialAllow for an entry that is neither a number nor a
// host.
var ErrBadDialAllow = errors.New("guard: dial-out allow entry is neither a number nor a host")

// DialAllow is the dial-out allow-list ([security.dialout] allow), against toll fraud with a
// leaked API token: numbers, each a prefix of the dialled user part, and hosts, each the whole
// host. With numbers listed the user part must start with one of them; with hosts listed the
// host must be one of them. The zero value allows every destination.
type DialAllow struct {
	numbers []string
	names   []string     // host names, lower-case
	addrs   []netip.Addr // IP literals, unmapped
}

var (
	// dialNumber is a number entry: digits, * and # (RFC 4733 keys), with an optional leading +.
	dialNumber = regexp.MustCompile(`^\+?[0-9*#]+$`)
	// dialName is a host name (RFC 1123 section 2.1 labels); it must hold a letter, so that a
	// number written with separators ("1-800", "555.0100") is never taken for a host.
	dialName = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)
)

// ParseDialAllow reads the allow-list entries: a number ("+4420", "00", "*21#"), a host name
// ("sip.provider.example", compared case-insensitively) or an IP address ("192.0.2.7",
// "2001:db8::1", also in brackets; compared as addresses). Anything else, a number with
// separators ("1-800") included, is refused with ErrBadDialAllow naming the entry.
func ParseDialAllow(entries []string) (DialAllow, error) {
	var a DialAllow
	for _, e := range entries {
		if dialNumber.MatchString(e) {
			a.numbers = append(a.numbers, e)
			continue
		}
		if ip, ok := hostAddr(e); ok {
			if ip.Zone() == "" {
				a.addrs = append(a.addrs, ip)
				continue
			}
		} else if len(e) <= 253 && dialName.MatchString(e) && strings.ContainsAny(strings.ToLower(e), "abcdefghijklmnopqrstuvwxyz") {
			a.names = append(a.names, strings.ToLower(e))
			continue
		}
		return DialAllow{}, fmt.Errorf("%w: %q (want a number: digits, * and #, with an optional leading +; or a host: a name or an IP address)", ErrBadDialAllow, e)
	}
	return a, nil
}

// IsHost reports whether host, as a SIP URI carries it (RFC 3261 section 25.1: hostname,
// IPv4address or an IPv6reference in brackets), is a host: a name of dialName's labels with at
// most one dot at its end, or an IP address. Anything else (an '@', a comma, a backslash, a
// percent escape in it) is not a host, and a peer that reads the URI again may find another
// one in it (red team, issue 14).
func IsHost(host string) bool {
	if _, ok := hostAddr(host); ok {
		return true
	}
	name := strings.TrimSuffix(host, ".")
	return len(name) <= 253 && dialName.MatchString(name)
}

// hostAddr reads host as an IP address, with or without the brackets of a URI's IPv6 host,
// IPv4-mapped as its IPv4.
func hostAddr(host string) (netip.Addr, bool) {
	if strings.HasPrefix(host, "[") != strings.HasSuffix(host, "]") {
		return netip.Addr{}, false
	}
	ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return ip.Unmap(), err == nil
}

// Allows reports whether the list lets confd dial user@host (host as a SIP URI carries it: an
// IPv6 address in brackets).
func (a DialAllow) Allows(user, host string) bool {
	numberOK := len(a.numbers) == 0
	for _, n := range a.numbers {
		numberOK = numberOK || strings.HasPrefix(user, n)
	}
	hostOK := len(a.names) == 0 && len(a.addrs) == 0
	if ip, ok := hostAddr(host); ok {
		for _, x := range a.addrs {
			hostOK = hostOK || x == ip.WithZone("")
		}
	} else {
		for _, x := range a.names {
			hostOK = hostOK || strings.EqualFold(x, host)
		}
	}
	return numberOK && hostOK
}
