package guard

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Origin normalises a serialised origin "scheme://host[:port]" (RFC 6454 section 6.1): scheme
// and host in lower case, the default port dropped. It refuses "null", other schemes, and
// anything with user info, a path, a query or a fragment.
func Origin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host, true
}

// Origins is a set of allowed origins, normalised by Origin; "*" allows every origin.
type Origins map[string]bool

// NewOrigins returns the set of list's origins, skipping any that Origin refuses (the
// configuration's validation names those).
func NewOrigins(list []string) Origins {
	o := Origins{}
	for _, s := range list {
		if s == "*" {
			o[s] = true
		} else if n, ok := Origin(s); ok {
			o[n] = true
		}
	}
	return o
}

// Allows is the one rule for browsers' requests to confd, the control API's state changes and
// the SIP-over-WebSocket handshake alike (RFC 6454, RFC 6455 section 10.2): a request with an
// Origin is allowed when that origin is the page confd serves itself, or one of o. The page's own
// origin is the Host asked for, port included (another port of the same host is another
// site), whatever the scheme: TLS may end at a proxy in front of confd, which then sees plain
// HTTP for an https page. An opaque origin ("null": a sandboxed frame, a file) or a request
// with two Origins is foreign unless "*" is allowed. A request without an Origin is not a
// browser's cross-site request, unless its Sec-Fetch-Site says it is.
func (o Origins) Allows(r *http.Request) bool {
	values := r.Header.Values("Origin")
	switch {
	case o["*"]:
		return true
	case len(values) == 0:
		return r.Header.Get("Sec-Fetch-Site") != "cross-site"
	case len(values) > 1:
		return false
	}
	n, ok := Origin(values[0])
	if !ok {
		return false
	}
	if o[n] {
		return true
	}
	_, host, _ := strings.Cut(n, "://")
	return host == canonicalHost(r.Host)
}

// canonicalHost returns an HTTP Host lowercased and without the port 80 or 443.
func canonicalHost(host string) string {
	host = strings.ToLower(host)
	for _, p := range []string{":80", ":443"} {
		if h, ok := strings.CutSuffix(host, p); ok {
			return h
		}
	}
	return host
}
