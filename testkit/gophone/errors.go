package gophone

import "errors"

var (
	// ErrBadConfig is returned by Call for a Config it cannot use: no server, a codec other than
	// Opus, PCMU or PCMA, a tone outside the codec's band or above full scale.
	ErrBadConfig = errors.New("gophone: bad config")
	// ErrRefused is returned by Call when confd answers the INVITE with a final status of 300
	// or more (RFC 3261 section 21); the error names the status.
	ErrRefused = errors.New("gophone: call refused")
	// ErrTimeout is returned when a SIP transaction gets no final response in Config.Timeout
	// (RFC 3261 section 17.1.1.2: Timer B).
	ErrTimeout = errors.New("gophone: no final response")
	// ErrBadAnswer is returned by Call when the 2xx's SDP answer (RFC 3264) has no usable audio
	// stream: no address, no port, or a codec that was not offered.
	ErrBadAnswer = errors.New("gophone: bad SDP answer")
	// ErrEnded is returned by Hangup when the call had already ended (confd sent a BYE).
	ErrEnded = errors.New("gophone: call already ended")
)
