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
	// messages in a row (WebSocket close status 1008, RFC 6455 section 7.4.1).
	ErrFlood = errors.New("sipws: too many malformed SIP messages")
	// ErrConnClosed is returned when writing to a connection that has been closed.
	ErrConnClosed = errors.New("sipws: connection closed")
)
