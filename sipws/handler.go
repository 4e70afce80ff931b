package sipws

import (
	"bytes"
	"errors"

	"github.com/emiago/sipgo/sip"

	"confd/sipua"
)

// handle processes one SIP message from the connection: a request must first pass the RFC 3261
// rules both SIP legs share (sipua.Validator), and a refused one is answered statelessly. It
// returns ErrFlood when the connection must be closed for sending too much garbage; every other
// problem is answered and the connection goes on.
func (c *conn) handle(raw []byte) error {
	if len(raw) > c.s.cfg.maxMessageSize() {
		return ErrMessageTooLarge
	}
	if len(bytes.Trim(raw, "\r\n")) == 0 {
		// An RFC 5626 section 4.4.1 keep-alive: a double CRLF ping gets a CRLF pong.
		if bytes.Contains(raw, []byte("\r\n\r\n")) {
			_ = c.send([]byte("\r\n"))
		}
		return nil
	}
	msg, refusal := c.s.valid.Check(raw)
	if refusal != nil {
		return c.malformed(refusal.Answer(raw))
	}
	switch m := msg.(type) {
	case *sip.Response:
		// Answers to confd's BYEs: nothing depends on them (the call is already gone).
		c.bad = 0
		c.s.stats.responses.Add(1)
		return nil
	case *sip.Request:
		m.SetSource(c.remote)
		m.SetTransport(c.transport)
		c.bad = 0
		c.s.stats.requests.Add(1)
		c.dispatch(m)
		return nil
	}
	return c.malformed(nil)
}

// malformed answers a bad message (answer may be nil: nothing to send) and counts it; too
// many in a row is a flood.
func (c *conn) malformed(answer []byte) error {
	c.s.stats.bad.Add(1)
	if answer != nil {
		_ = c.send(answer)
	}
	c.bad++
	if c.bad > c.s.cfg.maxBadMessages() {
		return ErrFlood
	}
	return nil
}

// dispatch routes a valid request by method (RFC 3261 section 8.2.1: an unsupported method is
// refused before anything else is looked at).
func (c *conn) dispatch(req *sip.Request) {
	switch req.Method {
	case sip.REGISTER:
		c.onRegister(req)
	case sip.INVITE:
		c.onInvite(req)
	case sip.ACK:
		c.onAck(req)
	case sip.CANCEL:
		c.onCancel(req)
	case sip.BYE:
		c.onBye(req)
	case sip.INFO:
		c.onInfo(req)
	case sip.OPTIONS:
		c.respond(req, 200, "OK", sip.NewHeader("Allow", allowed), sip.NewHeader("Accept", "application/sdp"))
	default:
		r := sipua.MethodRefusal(req.Method, allowed)
		c.respond(req, r.Status, r.Reason, r.Headers...)
	}
}

// respond answers req outside any dialog state.
func (c *conn) respond(req *sip.Request, status int, reason string, hdrs ...sip.Header) {
	c.sendMessage(newResponse(req, status, reason, hdrs...))
}

// sendMessage writes a request or response; a failed write closes the connection, which ends
// its calls, so the error needs no other handling.
func (c *conn) sendMessage(m sip.Message) {
	if err := c.send([]byte(m.String())); err != nil && !errors.Is(err, ErrConnClosed) {
		c.s.log.Debug("sip over websocket write failed", "remote", c.remote, "err", err)
	}
}
