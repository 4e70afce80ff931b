package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// WebSocket bounds SIP over WebSocket (/sip on -http) on a public address: which pages may open
// it, how many connections a source and everyone together may hold, and how long a connection
// may stay silent. Every zero value is the documented default ([security.websocket]).
type WebSocket struct {
	// AllowedOrigins are the page origins ("https://app.example.com", or "*" for any) allowed
	// to open /sip besides confd's own: a browser handshake whose Origin is neither the Host
	// it connects to nor listed is refused with 403 (cross-site WebSocket hijacking). A
	// handshake without Origin (sip.js under node, baresip, JsSIP phones) is allowed.
	AllowedOrigins []string `toml:"allowed_origins"`
	// ConnsPerSource is how many /sip connections one source address (IPv6: its /64) may
	// hold at once; beyond it the upgrade is answered 429. Zero means 16.
	ConnsPerSource int `toml:"conns_per_source"`
	// MaxConns is how many /sip connections every source together may hold; beyond it 503.
	// Zero means 1024.
	MaxConns int `toml:"max_conns"`
	// IdleTimeout closes a connection from which no frame (a SIP message, a CRLF keep-alive,
	// a WebSocket ping) has come for this long while it holds no call and its registration,
	// if any, has expired. Zero means 2m.
	IdleTimeout Duration `toml:"idle_timeout"`
	// MessageTimeout is how long a message may take to arrive once its first byte has come;
	// a slower one closes the connection. Zero means 10s.
	MessageTimeout Duration `toml:"message_timeout"`
}

// CanonicalOrigin returns a Web origin (RFC 6454 section 6.1) as it is compared: lowercase
// "scheme://host" with a non-default port kept, e.g. "https://app.example.com:8443". "*"
// stands for itself.
func CanonicalOrigin(origin string) (string, error) {
	if origin == "*" {
		return origin, nil
	}
	u, err := url.Parse(strings.TrimSpace(origin))
	if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not an origin (scheme://host[:port])", origin)
	}
	return strings.ToLower(u.Scheme) + "://" + CanonicalHost(u.Host), nil
}

// CanonicalHost returns a "host[:port]" (an HTTP Host, an origin's authority) lowercased and
// without the ports 80 and 443, so that an origin and a Host compare whatever the scheme and
// wherever TLS ends (RFC 6454 compares the scheme too; a TLS-terminating proxy hides it).
func CanonicalHost(host string) string {
	host = strings.ToLower(host)
	for _, p := range []string{":80", ":443"} {
		if h, ok := strings.CutSuffix(host, p); ok {
			return h
		}
	}
	return host
}

func (w WebSocket) validate() error {
	var errs []error
	for _, o := range w.AllowedOrigins {
		if _, err := CanonicalOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("security.websocket.allowed_origins: %w", err))
		}
	}
	if w.ConnsPerSource < 0 || w.MaxConns < 0 {
		errs = append(errs, errors.New("security.websocket: conns_per_source and max_conns must be ≥ 0"))
	}
	if w.IdleTimeout < 0 || w.MessageTimeout < 0 {
		errs = append(errs, errors.New("security.websocket: idle_timeout and message_timeout must be ≥ 0"))
	}
	return errors.Join(errs...)
}
