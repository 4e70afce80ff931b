package sipleg

import (
	"fmt"
	"slices"
	"strings"

	"github.com/emiago/sipgo/sip"

	"confd/internal/guard"
)

// maxURILen bounds a dial-out or transfer target: the INVITE or REFER carrying it must stay
// one UDP datagram (RFC 3261 section 18.1.1), and no phone needs a longer URI.
const maxURILen = 512

// parseURI is the one rule for a SIP URI the control API hands sipleg to call (DialOut) or to
// transfer a call to (Transfer, written in Refer-To as <uri>): a sip: or sips: URI (RFC 3261
// section 19.1) of at most maxURILen bytes whose host is a host name or IP address
// (guard.IsHost) and whose port, if any, is one, with nothing in it that could end the header
// or close its brackets: no control character (a NUL or a tab reads differently to different
// parsers; red team, issue 13), no space, quote or angle bracket; and with nothing that sends
// the call elsewhere than its host, which the dial-out allow-list checks: no maddr parameter
// (RFC 3261 section 19.1.1: the server to contact instead) and no headers (?Route=… would
// route the INVITE the phone builds from a Refer-To). Anything else is ErrBadURI.
func parseURI(s string) (sip.Uri, error) {
	var u sip.Uri
	if len(s) > maxURILen {
		return u, fmt.Errorf("%w: longer than %d bytes", ErrBadURI, maxURILen)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f || strings.ContainsRune(`<>"`, r) }) ||
		sip.ParseUri(s, &u) != nil || (u.Scheme != "sip" && u.Scheme != "sips") {
		return sip.Uri{}, fmt.Errorf("%w: %q is not a sip: or sips: URI with a host", ErrBadURI, s)
	}
	// sipgo takes whatever follows the first '@' up to a ';', '?' or ':' as the host, so
	// "sip:desk@pbx@evil.example" would be dialled (or written in Refer-To) with the host
	// "pbx@evil.example", which another parser reads as evil.example (red team, issue 14).
	if !guard.IsHost(u.Host) || u.Port < 0 || u.Port > 65535 {
		return sip.Uri{}, fmt.Errorf("%w: %q: %q is not a host name or IP address with a port of 1-65535", ErrBadURI, s, u.Host)
	}
	maddr := slices.ContainsFunc(u.UriParams.Keys(), func(k string) bool { return strings.EqualFold(k, "maddr") }) // names are case-insensitive
	if maddr || strings.Contains(s, "?") {
		return sip.Uri{}, fmt.Errorf("%w: %q: a maddr parameter or URI headers would send the call elsewhere than %q", ErrBadURI, s, u.Host)
	}
	return u, nil
}
