package sipws

import (
	"log/slog"
	"time"

	"confd/bridge"
	"confd/internal/guard"
	"confd/sipua"
)

// Config sets up a Server. The zero value is complete: open to everyone (sipua.AuthConfig's
// zero value), 64 KiB messages, ten malformed messages in a row before a connection is closed,
// Retry-After 60 while draining, registrations of at most an hour, 8 calls per connection, 5 s
// write timeout, 32 s for an ACK, 16 connections per source and 1024 in all, 2 min idle and
// 10 s per message, room PIN guesses throttled by guard's default Attempts, 5 upgrades and 5
// INVITEs or REGISTERs per second per source.
type Config struct {
	// Auth says who may register and call in. With Users, a REGISTER is challenged with a
	// 401 digest (RFC 3261 section 22.4, realm Auth.Realm, default "confd"). With Restrict,
	// an INVITE must come from a connection that registered with digest credentials, carry
	// valid credentials itself (401 challenge), or come from an address in Auth.Trunks;
	// otherwise it is refused (403 when there are no users). Auth.Trunks are exempt from the
	// per-source limits (not from the totals).
	Auth sipua.AuthConfig
	// AllowedOrigins are the page origins ("https://app.example.com", or "*" for any) allowed
	// to open /sip besides confd's own: a browser handshake whose Origin is neither the Host
	// it connects to nor listed is refused with 403 (cross-site WebSocket hijacking). A
	// handshake without Origin (sip.js under node, baresip, JsSIP phones) is allowed.
	AllowedOrigins []string
	// ConnsPerSource is how many connections one source address (IPv6: its /64) may hold at
	// once; beyond it the upgrade is answered 429. Zero means 16.
	ConnsPerSource int
	// MaxConns is how many connections every source together may hold; beyond it 503. Zero
	// means 1024.
	MaxConns int
	// IdleTimeout closes a connection from which no frame (a SIP message, a CRLF keep-alive,
	// a WebSocket ping) has come for this long while it holds no call and its registration,
	// if any, has expired. Zero means 2 min.
	IdleTimeout time.Duration
	// MessageTimeout is how long a message may take to arrive once its first byte has come;
	// a slower one closes the connection. Zero means 10 s.
	MessageTimeout time.Duration
	// Attempts throttles room PIN guesses (X-Confd-PIN, ;pin=) per source and per room; the
	// daemon shares one with the other legs that check PINs. Nil means the Server makes its
	// own with guard's defaults.
	Attempts *guard.Attempts
	// RoomToken, when set, mints the read-only capability for a room's roster and events
	// that the 200 OK to an INVITE carries as X-Confd-Room-Token; nil (or "") means no header.
	RoomToken func(room string) string
	// UpgradeRate is how many WebSocket upgrades one source may make per second on average,
	// with bursts of four times as many; beyond it 429. Zero means 5.
	UpgradeRate float64
	// RequestRate is how many dialog-creating INVITEs and REGISTERs one source may send per
	// second over all its connections, with bursts of four times as many; beyond it 503 with
	// Retry-After (RFC 3261 section 21.5.4), before any room, PIN, offer or credential is
	// looked at. Zero means 5.
	RequestRate float64
	// MessageRate is how many SIP messages (keep-alives included) one source may send per
	// second over all its connections, with bursts of ten times as many; a connection that
	// sends beyond it is closed (status 1008), as a flood of garbage is. No browser or phone
	// comes near it; it bounds the parsing one source can make confd do. Zero means 50.
	MessageRate float64
	// MaxMessageSize is the largest SIP message (one WebSocket message, RFC 7118 section 5)
	// a connection may send; a larger one closes the connection with status 1009 (RFC 6455
	// section 7.4.1). Zero means 64 KiB.
	MaxMessageSize int
	// MaxBadMessages is how many malformed messages in a row a connection may send (each
	// answered 400) before it is closed with status 1008: a flood of garbage. Zero means 10.
	MaxBadMessages int
	// RetryAfter is the Retry-After, in seconds, of the 503 answered while draining (RFC 3261
	// section 20.33). Zero means 60.
	RetryAfter int
	// MaxExpires caps the expiry granted to a REGISTER (RFC 3261 section 10.2.1.1). Zero
	// means 3600 s.
	MaxExpires int
	// WriteTimeout bounds how long one message may take to be written to a connection; a
	// connection that cannot take it is closed. Zero means 5 s.
	WriteTimeout time.Duration
	// MaxCalls is how many calls one connection may have at once (a browser tab has one); an
	// INVITE beyond it gets 486, so that one socket cannot hold a room's worth of
	// PeerConnections. Zero means 8.
	MaxCalls int
	// AckTimeout is how long a 200 OK to an INVITE waits for its ACK before confd ends the
	// call with a BYE (RFC 3261 section 13.3.1.4: 64*T1). Zero means 32 s.
	AckTimeout time.Duration
}

func (c Config) maxMessageSize() int { return positiveOr(c.MaxMessageSize, 64<<10) }
func (c Config) maxBadMessages() int { return positiveOr(c.MaxBadMessages, 10) }
func (c Config) retryAfter() int     { return positiveOr(c.RetryAfter, bridge.DrainingRetryAfter) }
func (c Config) maxExpires() int     { return positiveOr(c.MaxExpires, 3600) }
func (c Config) maxCalls() int       { return positiveOr(c.MaxCalls, 8) }
func (c Config) writeTimeout() time.Duration {
	return time.Duration(positiveOr(int64(c.WriteTimeout), int64(5*time.Second)))
}
func (c Config) ackTimeout() time.Duration {
	return time.Duration(positiveOr(int64(c.AckTimeout), int64(32*time.Second)))
}

func (c Config) idleTimeout() time.Duration {
	return time.Duration(positiveOr(int64(c.IdleTimeout), int64(2*time.Minute)))
}
func (c Config) messageTimeout() time.Duration {
	return time.Duration(positiveOr(int64(c.MessageTimeout), int64(10*time.Second)))
}

// admissions are the per-source gates of the upgrade (connections held and upgrade rate) and
// of the requests that start something (rate), and of every message (rate).
func (c Config) admissions() (conns, requests, messages *guard.Admission) {
	trunks := c.Auth.Trunks
	up, inv := float64(positiveOr(c.UpgradeRate, 5)), float64(positiveOr(c.RequestRate, 5))
	conns = guard.NewAdmission(guard.AdmissionConfig{Rate: up, Burst: int(4 * up), Exempt: trunks,
		PerSource: positiveOr(c.ConnsPerSource, 16), Total: positiveOr(c.MaxConns, 1024)})
	requests = guard.NewAdmission(guard.AdmissionConfig{Rate: inv, Burst: int(4 * inv), Exempt: trunks})
	msg := float64(positiveOr(c.MessageRate, 50))
	messages = guard.NewAdmission(guard.AdmissionConfig{Rate: msg, Burst: int(10 * msg), Exempt: trunks})
	return conns, requests, messages
}

func positiveOr[T int | int64 | float64](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Option changes how a Server reports or tells time, not what it does.
type Option func(*Server)

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithClock sets the clock read for DTMF timestamps and digest nonces; the default is
// time.Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }
