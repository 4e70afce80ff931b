package sipws

import "errors"

var (
	// ErrNoSubprotocol is returned (and answered HTTP 400) for a WebSocket handshake that does
	// not offer the "sip" subprotocol, which RFC 7118 section 4 requires of SIP over
	// WebSocket clients.
	ErrNoSubprotocol = errors.New("sipws: the WebSocket handshake does not offer the sip subprotocol")
	// ErrMessageTooLarge closes a connection that sent a message longer than
	// Config.MaxMessageSize (WebSocket close status 1009, RFC 6455 section 7.4.1).
	ErrMessageTooLarge = errors.New("sipws: SIP message too large")
	// ErrFlood closes a connection that sent more than Config.MaxBadMessages malformed
	// messages in a row, or more messages than its source's Config.MessageRate (WebSocket
	// close status 1008, RFC 6455 section 7.4.1).
	ErrFlood = errors.New("sipws: too many malformed SIP messages")
	// ErrConnClosed is returned when writing to a connection that has been closed.
	ErrConnClosed = errors.New("sipws: connection closed")
	// ErrForeignOrigin refuses (HTTP 403) a browser handshake from a page that is neither on
	// the origin it connects to nor in Config.AllowedOrigins: cross-site WebSocket
	// hijacking (RFC 6455 section 10.2).
	ErrForeignOrigin = errors.New("sipws: the page's origin may not open /sip")
	// ErrIdle closes (status 1000) a connection that sent nothing for
	// Config.IdleTimeout while it held no call and no registration.
	ErrIdle = errors.New("sipws: connection idle")
	// ErrSlowMessage closes (status 1008) a connection whose message did not arrive within
	// Config.MessageTimeout of its first byte: a slow-loris.
	ErrSlowMessage = errors.New("sipws: message too slow")
)
