package sipleg

import (
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// maxURILen bounds a dial-out or transfer target: the INVITE or REFER carrying it must stay
// one UDP datagram (RFC 3261 section 18.1.1), and no phone needs a longer URI.
const maxURILen = 512

// parseURI is the one rule for a SIP URI the control API hands sipleg to call (DialOut) or to
// transfer a call to (Transfer, written in Refer-To as <uri>): a sip: or sips: URI (RFC 3261
// section 19.1) with a host, of at most maxURILen bytes, with nothing in it that could end the
// header or close its brackets: no control character (a NUL or a tab reads differently to
// different parsers; red team, issue 13), no space, quote or angle bracket. Anything else is
// ErrBadURI.
func parseURI(s string) (sip.Uri, error) {
	var u sip.Uri
	if len(s) > maxURILen {
		return u, fmt.Errorf("%w: longer than %d bytes", ErrBadURI, maxURILen)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f || strings.ContainsRune(`<>"`, r) }) ||
		sip.ParseUri(s, &u) != nil || u.Host == "" || (u.Scheme != "sip" && u.Scheme != "sips") {
		return sip.Uri{}, fmt.Errorf("%w: %q is not a sip: or sips: URI with a host", ErrBadURI, s)
	}
	return u, nil
}
