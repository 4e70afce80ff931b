package config

import (
	"confd/internal/guard"

	"errors"
	"fmt"
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

func (w WebSocket) validate() error {
	var errs []error
	for _, o := range w.AllowedOrigins {
		if _, ok := guard.Origin(o); !ok && o != "*" {
			errs = append(errs, fmt.Errorf("security.websocket.allowed_origins: %q is not an origin (http(s)://host[:port]) nor \"*\"", o))
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
