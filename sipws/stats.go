package sipws

import "sync/atomic"

// Stats is a snapshot of a Server's counters.
type Stats struct {
	// Connections is the number of open WebSocket connections; ConnectionsTotal counts every
	// connection accepted, Refused the handshakes refused (no "sip" subprotocol, RFC 7118
	// section 4, or not a WebSocket upgrade).
	Connections, ConnectionsTotal, Refused uint64
	// Requests counts the SIP requests received, Responses the responses received (to
	// confd's BYEs), Bad the malformed messages (answered 400 or dropped).
	Requests, Responses, Bad uint64
	// Registered counts REGISTERs answered 200, Challenged those answered 401.
	Registered, Challenged uint64
	// Invites counts the dialog-creating INVITEs, Answered those answered 200, Rejected those
	// answered with a final failure (4xx, 5xx), Cancelled those ended by CANCEL (487).
	Invites, Answered, Rejected, Cancelled uint64
	// ByeIn counts the BYEs from browsers, ByeOut those confd sent (kicked, ICE failed,
	// shutdown), DTMF the digits received by INFO.
	ByeIn, ByeOut, DTMF uint64
	// Oversize and Flooded count the connections closed for a message over
	// Config.MaxMessageSize and for too many malformed messages (or messages beyond
	// Config.MessageRate); Idle and Slow those closed
	// for silence (Config.IdleTimeout) and for a message that did not complete in
	// time (Config.MessageTimeout).
	Oversize, Flooded, Idle, Slow uint64
	// ForeignOrigin counts the handshakes refused for their Origin, ConnLimited those refused
	// by the per-source upgrade rate or the connection caps (both are in Refused too).
	ForeignOrigin, ConnLimited uint64
	// RateLimited counts the INVITEs and REGISTERs refused by the per-source request rate
	// (Config.RequestRate); PINWrong the
	// room PINs checked and found wrong; PINLockedOut the PIN tries refused unchecked because
	// the source (or the room) had failed too often lately.
	RateLimited, PINWrong, PINLockedOut uint64
}

// counters are the atomic counters behind Stats.
type counters struct {
	conns, connsTotal, refused         atomic.Uint64
	requests, responses, bad           atomic.Uint64
	registered, challenged             atomic.Uint64
	invites, answered, rejected, cancl atomic.Uint64
	byeIn, byeOut, dtmf                atomic.Uint64
	oversize, flooded, idle, slow      atomic.Uint64
	foreignOrigin, connLimited         atomic.Uint64
	rateLimited, pinWrong, pinLock     atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Connections: c.conns.Load(), ConnectionsTotal: c.connsTotal.Load(), Refused: c.refused.Load(),
		Requests: c.requests.Load(), Responses: c.responses.Load(), Bad: c.bad.Load(),
		Registered: c.registered.Load(), Challenged: c.challenged.Load(),
		Invites: c.invites.Load(), Answered: c.answered.Load(), Rejected: c.rejected.Load(), Cancelled: c.cancl.Load(),
		ByeIn: c.byeIn.Load(), ByeOut: c.byeOut.Load(), DTMF: c.dtmf.Load(),
		Oversize: c.oversize.Load(), Flooded: c.flooded.Load(), Idle: c.idle.Load(), Slow: c.slow.Load(),
		ForeignOrigin: c.foreignOrigin.Load(), ConnLimited: c.connLimited.Load(),
		RateLimited: c.rateLimited.Load(), PINWrong: c.pinWrong.Load(), PINLockedOut: c.pinLock.Load(),
	}
}
