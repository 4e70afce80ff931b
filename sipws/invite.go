package sipws

import (
	"context"
	"errors"
	"strings"

	"github.com/emiago/sipgo/sip"

	"confd/bridge"
	"confd/dtmf"
	"confd/internal/guard"
	"confd/sipua"
	"confd/webrtcleg"
)

// onInvite starts a call: INVITE sip:ROOM@HOST with a WebRTC offer (RFC 7118 section 5.2, ICE
// and DTLS-SRTP, RFC 8827), through the admission pipeline both SIP legs share (sipua.Gate).
// 100 Trying goes out at once and the admit step runs here (admit); negotiate, join and
// answer are webrtcleg's Answer, which gathers ICE candidates, on the call's own goroutine
// (run) so that a CANCEL can still be read.
func (c *conn) onInvite(req *sip.Request) {
	if tag, ok := req.To().Params.Get("tag"); ok {
		c.onReInvite(req, tag)
		return
	}
	id := req.CallID().Value()
	c.mu.Lock()
	_, dup := c.calls[id]
	full := len(c.calls) >= c.s.cfg.maxCalls()
	c.mu.Unlock()
	if full {
		c.s.stats.rejected.Add(1)
		c.respond(req, 486, "Busy Here (too many calls on this connection)")
		return
	}
	if dup {
		// A reliable transport never retransmits (RFC 3261 section 17.1.1.2): a second INVITE
		// with this Call-ID and no tag is another transaction confd cannot tell apart.
		c.respond(req, 482, "Loop Detected")
		return
	}
	c.s.stats.invites.Add(1)
	c.respond(req, 100, "Trying")
	moderator, r := c.admit(req)
	if r != nil {
		c.s.stats.rejected.Add(1)
		c.respond(req, r.Status, r.Reason, r.Headers...)
		return
	}
	ctx, cancel := context.WithCancel(c.ctx)
	cl := &call{id: id, invite: req, localTag: newTag(), room: req.Recipient.User, state: answering, moderator: moderator,
		hangup: make(chan struct{}), finished: make(chan struct{}), cancel: cancel}
	name, from := req.From().DisplayName, req.From().Address.String()
	c.mu.Lock()
	if c.ctx.Err() != nil {
		c.mu.Unlock()
		cancel()
		return
	}
	c.calls[id] = cl
	c.s.wg.Add(1)
	c.mu.Unlock()
	go c.run(ctx, cl, string(req.Body()), strings.Trim(name, `"`), from)
}

// admit is the admit step of an INVITE: nil, or the refusal. Draining is looked at first, then
// the source's request rate, then credentials and the room (sipua.Gate.Admit; a connection
// whose REGISTER passed the digest check is trusted), then the offer's presence and the room's
// PIN (checkPIN), which reports whether it was the room's moderator PIN.
func (c *conn) admit(req *sip.Request) (moderator bool, r *sipua.Refusal) {
	r = c.admitWith(req, &moderator)
	return moderator, r
}

// admitWith is admit, setting *moderator when the caller gave the moderator PIN.
func (c *conn) admitWith(req *sip.Request, moderator *bool) *sipua.Refusal {
	if r := c.s.gate.Open(); r != nil {
		return r
	}
	if r := c.overRate(); r != nil {
		return r
	}
	c.mu.Lock()
	authed := c.authed
	c.mu.Unlock()
	room := req.Recipient.User
	settings, r := c.s.gate.Admit(req, c.remote, room, authed)
	if r != nil {
		if r.Status == 401 {
			c.s.stats.challenged.Add(1)
		}
		return r
	}
	if len(req.Body()) == 0 {
		// A late offer would need confd to offer WebRTC itself; browsers always offer.
		return &sipua.Refusal{Status: 488, Reason: "Not Acceptable Here (offer required)",
			Headers: []sip.Header{sipua.Warning(399, "an INVITE over WebSocket must carry a WebRTC SDP offer")}}
	}
	given, gave := givenPIN(req)
	secret, mod := bridge.PINToCheck(settings.PIN, settings.ModeratorPIN, given, gave)
	if secret == "" {
		return nil // webrtcleg.Answer checks the offer
	}
	if r := c.checkPIN(req, room, secret); r != nil {
		return r
	}
	*moderator = mod
	return nil
}

// givenPIN returns the PIN the INVITE gives, as a pin URI parameter or an X-Confd-PIN header.
func givenPIN(req *sip.Request) (string, bool) {
	if pin, ok := req.Recipient.UriParams.Get("pin"); ok {
		return pin, true
	}
	if h := req.GetHeader("X-Confd-PIN"); h != nil {
		return strings.TrimSpace(h.Value()), true
	}
	return "", false
}

// checkPIN admits a call into a room with a PIN. The offer is checked before the PIN
// (webrtcleg.CheckOffer), and the PIN only when guard.Attempts allows a try, so that neither a
// bad offer's answer nor the time a guess takes tells a right PIN from a wrong one.
func (c *conn) checkPIN(req *sip.Request, room, want string) *sipua.Refusal {
	who := c.s.gate.Auth.AttemptKey(c.remote, req.From().Address.User)
	if err := c.s.attempts.Allow(who, room, c.s.now()); err != nil {
		c.s.stats.pinLock.Add(1)
		return c.s.gate.RefusalOf(err) // 403 with its Retry-After
	}
	if err := webrtcleg.CheckOffer(string(req.Body())); err != nil {
		return c.s.refusalOf(err)
	}
	pin, ok := givenPIN(req)
	if !ok || pin == "" {
		return &sipua.Refusal{Status: 403, Reason: "Forbidden (PIN required)",
			Headers: []sip.Header{sipua.Warning(399, "this room has a PIN: call sip:ROOM@HOST;pin=PIN or send X-Confd-PIN")}}
	}
	// Compared and counted in one step, refused unchecked if the source was locked out
	// meanwhile (its other connections guessing at the same time).
	switch err := c.s.attempts.Check(who, room, pin, want, c.s.now()); {
	case err == nil:
		return nil
	case errors.Is(err, guard.ErrWrongSecret):
		c.s.stats.pinWrong.Add(1)
		return &sipua.Refusal{Status: 403, Reason: "Forbidden (wrong PIN)"}
	default:
		c.s.stats.pinLock.Add(1)
		return c.s.gate.RefusalOf(err) // 403 with its Retry-After
	}
}

// overRate takes one token of the source's request rate (Config.RequestRate) for a REGISTER
// or a dialog-creating INVITE: nil when there was one, else the 503 with Retry-After that
// refuses the request (bridge.StatusOf's answer to guard.ErrRateLimited).
func (c *conn) overRate() *sipua.Refusal {
	err := c.s.requests.Allow(guard.SourceAddr(c.remote), c.s.now())
	if err == nil {
		return nil
	}
	c.s.stats.rateLimited.Add(1)
	return c.s.gate.RefusalOf(err)
}

// refusalOf is the SIP answer to an error of the bridge or of webrtcleg.Answer (docs/SPEC.md
// "Errors"), from webrtcleg.StatusOf: its own errors' table beside the bridge's, whose HTTP
// column WHIP/WHEP answers; a 503 without a Retry-After of its own gets the configured one.
func (s *Server) refusalOf(err error) *sipua.Refusal {
	if st, ok := webrtcleg.StatusOf(err); ok {
		return sipua.RefusalFor(st, err, s.cfg.retryAfter())
	}
	return &sipua.Refusal{Status: 500, Reason: "Server Internal Error"}
}

// joinInfo is the WebRTC leg's JoinInfo of a call from remote (the WebSocket peer), whose
// WebRTC sessions count against the same per-source caps as WHIP's.
func joinInfo(name, from, remote string, moderator bool) webrtcleg.JoinInfo {
	return webrtcleg.JoinInfo{Name: name, From: from, Kind: "sip", Remote: remote, Moderator: moderator}
}

// onReInvite refuses a re-INVITE (webrtcleg cannot renegotiate a PeerConnection): 488 in a
// known dialog, 481 otherwise. The call goes on as it was.
func (c *conn) onReInvite(req *sip.Request, tag string) {
	c.mu.Lock()
	cl, ok := c.calls[req.CallID().Value()]
	known := ok && cl.localTag == tag && cl.state != ended
	c.mu.Unlock()
	if !known {
		c.respond(req, 481, "Call/Transaction Does Not Exist")
		return
	}
	c.respond(req, 488, "Not Acceptable Here", sipua.Warning(399, "re-INVITE is not supported; the call goes on unchanged"))
}

// onAck confirms the dialog of a 200 (RFC 3261 section 13.3.1.4). An ACK of a failure
// response, or of nothing, is absorbed without an answer.
func (c *conn) onAck(req *sip.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.calls[req.CallID().Value()]; ok && cl.matches(req) && cl.state == answered {
		cl.state = confirmed
		cl.ackTimer.Stop()
	}
}

// onCancel cancels an INVITE still being answered: 200 for the CANCEL and 487 for the INVITE
// (RFC 3261 section 9.2). A CANCEL after the 200 changes nothing (200); one that matches no
// INVITE gets 481.
func (c *conn) onCancel(req *sip.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl, ok := c.calls[req.CallID().Value()]
	if !ok || cl.invite.CSeq().SeqNo != req.CSeq().SeqNo || branch(cl.invite) != branch(req) {
		c.respond(req, 481, "Call/Transaction Does Not Exist")
		return
	}
	c.respond(req, 200, "OK")
	if cl.state != answering || cl.reason != "" {
		return
	}
	cl.endLocked(endCancel)
	c.removeCallLocked(cl)
	c.s.stats.cancl.Add(1)
	c.respondInvite(cl, 487, "Request Terminated", nil)
}

func branch(req *sip.Request) string {
	b, _ := req.Via().Params.Get("branch")
	return b
}

// onBye ends a call at the browser's request (RFC 3261 section 15.1.2): 200, then the WebRTC
// leg closes on the call's goroutine.
func (c *conn) onBye(req *sip.Request) {
	c.mu.Lock()
	cl, ok := c.calls[req.CallID().Value()]
	if !ok || !cl.matches(req) || cl.state == answering || cl.state == ended {
		c.mu.Unlock()
		c.respond(req, 481, "Call/Transaction Does Not Exist")
		return
	}
	cl.endLocked(endPeerBye)
	c.mu.Unlock()
	c.s.stats.byeIn.Add(1) // before the 200, so that a client reading Stats after it sees it
	c.respond(req, 200, "OK")
}

// onInfo reads a DTMF digit from an INFO in a dialog (application/dtmf-relay or
// application/dtmf, dtmf.ParseInfo) and hands it to the participant: 200, 415 for another
// content type, 400 for a body without a digit; an INFO without a body is a keep-alive (RFC
// 6086 section 4.2) and gets 200.
func (c *conn) onInfo(req *sip.Request) {
	c.mu.Lock()
	cl, ok := c.calls[req.CallID().Value()]
	var m media
	if ok && cl.matches(req) && (cl.state == answered || cl.state == confirmed) {
		m = cl.media
	}
	c.mu.Unlock()
	if m == nil {
		c.respond(req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if len(req.Body()) == 0 {
		c.respond(req, 200, "OK")
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	d, _, err := dtmf.ParseInfo(ct, req.Body())
	switch {
	case errors.Is(err, dtmf.ErrContentType):
		c.respond(req, 415, "Unsupported Media Type", sip.NewHeader("Accept", dtmf.ContentTypeDTMFRelay+", "+dtmf.ContentTypeDTMF))
	case err != nil:
		c.respond(req, 400, "Bad Request ("+err.Error()+")")
	default:
		m.DTMF(byte(d), c.s.now())
		c.s.stats.dtmf.Add(1)
		c.respond(req, 200, "OK")
	}
}

// hangupAll ends every call on the connection with a BYE (shutdown); calls still being
// answered get 503.
func (c *conn) hangupAll(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cl := range c.calls {
		if cl.state == answering && cl.reason == "" {
			cl.endLocked(reason)
			c.removeCallLocked(cl)
			c.respondInvite(cl, 503, "Service Unavailable (shutting down)", nil)
			continue
		}
		cl.endLocked(reason)
	}
}

// callCount is the number of calls on the connection.
func (c *conn) callCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.calls)
}

// waitCalls waits until every call's goroutine has returned, or ctx ends.
func (c *conn) waitCalls(ctx context.Context) {
	c.mu.Lock()
	var waits []chan struct{}
	for _, cl := range c.calls {
		waits = append(waits, cl.finished)
	}
	c.mu.Unlock()
	for _, w := range waits {
		select {
		case <-w:
		case <-ctx.Done():
			return
		}
	}
}
