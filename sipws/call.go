package sipws

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/emiago/sipgo/sip"
)

// callState is where a call's INVITE server transaction and dialog are (RFC 3261 sections 13.3
// and 12).
type callState int

const (
	// answering: the INVITE got 100 Trying and webrtcleg is answering its offer.
	answering callState = iota
	// answered: the 200 OK went out, its ACK has not come yet.
	answered
	// confirmed: the ACK came; the dialog is confirmed.
	confirmed
	// ended: the call is over (BYE either way, CANCEL, a refusal, the connection closed).
	ended
)

// Why a call ends, as the goroutine that runs it needs to know: whether to send a BYE.
const (
	endPeerBye    = "bye"               // the browser's BYE: answered 200, no BYE back
	endCancel     = "cancel"            // CANCEL before the 200: 487 already sent
	endShutdown   = "shutdown"          // Server.Shutdown: BYE
	endNoAck      = "no ack"            // the 200 was never acknowledged: BYE (RFC 3261 section 13.3.1.4)
	endConfd      = "confd"             // the WebRTC leg ended (kicked, ICE or DTLS failed): BYE
	endConnClosed = "connection closed" // the WebSocket is gone, and the dialog with it
	endRefused    = "refused"           // the answer failed: a final failure response went out
)

// call is one INVITE dialog on a connection: the INVITE and the tags that identify the
// dialog (RFC 3261 section 12), the WebRTC leg, and how it ends. Fields are guarded by the
// connection's mu.
type call struct {
	id       string       // Call-ID
	invite   *sip.Request // the dialog-creating INVITE
	localTag string       // confd's To tag
	room     string
	state    callState
	reason   string        // why it ends, once set (one of the end* constants)
	media    media         // set once answered
	hangup   chan struct{} // closed when reason is set
	finished chan struct{} // closed when the call's goroutine has returned
	cancel   context.CancelFunc
	ackTimer *time.Timer
}

// newTag returns a random dialog tag (RFC 3261 section 19.3: at least 32 random bits).
func newTag() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// endLocked asks the call's goroutine to end the call for reason; the first reason wins.
// The caller holds c.mu.
func (cl *call) endLocked(reason string) bool {
	if cl.reason != "" {
		return false
	}
	cl.reason = reason
	cl.cancel()
	close(cl.hangup)
	return true
}

// matches reports whether an in-dialog request belongs to the call: the Call-ID is the map
// key; confd's tag must be the request's To tag (RFC 3261 section 12.2.2).
func (cl *call) matches(req *sip.Request) bool {
	tag, _ := req.To().Params.Get("tag")
	return tag == cl.localTag
}

// respondInvite answers the call's INVITE (every response but 100 carries the same To tag,
// RFC 3261 section 8.2.6.2). The caller holds c.mu, so that a 487 and a 200 never cross.
func (c *conn) respondInvite(cl *call, status int, reason string, body []byte, hdrs ...sip.Header) {
	res := newResponse(cl.invite, status, reason, hdrs...)
	if to := res.To(); to != nil {
		to.Params.Add("tag", cl.localTag)
	}
	if body != nil {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		res.SetBody(body)
	}
	c.sendMessage(res)
}

// run is the rest of the admission pipeline for one call (negotiate and join: webrtcleg's
// Answer; then answer: the 200 or the refusal, answerStep), and then keeps the call until it
// ends (hold): the browser's BYE, confd's end of the WebRTC leg (kicked, ICE failed: a BYE
// goes out), the connection closing, or shutdown.
func (c *conn) run(ctx context.Context, cl *call, offer, name, from string) {
	defer c.s.wg.Done()
	defer close(cl.finished)
	answer, m, err := c.s.answer(ctx, cl.room, offer, joinInfo(name, from, c.remote))
	if !c.answerStep(cl, answer, m, err, from) {
		return
	}
	c.s.log.Info("sip over websocket call answered", "room", cl.room, "from", from, "call_id", cl.id)
	c.hold(cl, m)
}

// answerStep answers the call's INVITE with the outcome of webrtcleg's Answer: the 200 with
// the SDP answer (and the ACK's timer), or the refusal of the error. It reports whether the
// call goes on; a CANCEL, shutdown or the connection's end that came first has answered the
// INVITE already, and the media, if any, is closed.
func (c *conn) answerStep(cl *call, answer string, m media, err error, from string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl.state != answering || cl.reason != "" {
		cl.state = ended
		if m != nil {
			_ = m.Close()
		}
		return false
	}
	if err != nil {
		cl.state = ended
		cl.endLocked(endRefused)
		c.removeCallLocked(cl)
		r := c.s.refusalOf(err)
		c.s.stats.rejected.Add(1)
		c.respondInvite(cl, r.Status, r.Reason, nil, r.Headers...)
		c.s.log.Info("sip over websocket call refused", "room", cl.room, "from", from, "status", r.Status, "err", err)
		return false
	}
	cl.media, cl.state = m, answered
	c.s.stats.answered.Add(1)
	c.respondInvite(cl, 200, "OK", []byte(answer), c.contact(cl.room), sip.NewHeader("Allow", allowed), c.roomToken(cl.room))
	cl.ackTimer = time.AfterFunc(c.s.cfg.ackTimeout(), func() {
		c.mu.Lock()
		if cl.state == answered {
			cl.endLocked(endNoAck)
		}
		c.mu.Unlock()
	})
	return true
}

// hold keeps an answered call until it ends, then ends its dialog (a BYE unless the browser
// sent one) and its WebRTC leg.
func (c *conn) hold(cl *call, m media) {
	select {
	case <-m.Done(): // kicked, drained, ICE or DTLS failed: confd ends the dialog
	case <-cl.hangup:
	case <-c.ctx.Done():
	}
	c.mu.Lock()
	if cl.reason == "" {
		cl.reason = endConfd
		if c.ctx.Err() != nil {
			cl.reason = endConnClosed
		}
	}
	reason := cl.reason
	cl.cancel() // the answer's context, whichever way the call ended
	cl.state = ended
	cl.ackTimer.Stop()
	c.mu.Unlock()
	if reason != endPeerBye && c.ctx.Err() == nil {
		c.sendBye(cl)
	}
	// The call leaves the map only once its BYE is written: Shutdown's waitCalls finds the
	// calls to wait for in the map, and closing the connection before the BYE went out would
	// lose it. Meanwhile its ended state answers in-dialog requests 481.
	c.mu.Lock()
	c.removeCallLocked(cl)
	c.mu.Unlock()
	_ = m.Close()
	c.s.log.Info("sip over websocket call ended", "room", cl.room, "call_id", cl.id, "reason", reason)
}

// roomToken is the X-Confd-Room-Token header of the 200 (Config.RoomToken): the page that
// joined may then read its room's roster and events from the API. Nil when there is none.
func (c *conn) roomToken(room string) sip.Header {
	if c.s.cfg.RoomToken == nil {
		return nil
	}
	if tok := c.s.cfg.RoomToken(room); tok != "" {
		return sip.NewHeader("X-Confd-Room-Token", tok)
	}
	return nil
}

// contact is confd's Contact in the 200: the host the browser connected to, transport=ws (RFC
// 7118 section 5.4); the browser sends its in-dialog requests over the same connection anyway.
func (c *conn) contact(room string) sip.Header {
	host := c.host
	if !safeHost(host) {
		host = "confd.invalid"
	}
	return sip.NewHeader("Contact", "<sip:"+room+"@"+host+";transport=ws>")
}

func safeHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == ':' || r == '[' || r == ']') {
			return false
		}
	}
	return true
}

// sendBye ends the dialog from confd's side (RFC 3261 section 15.1.1): a request to the
// browser's Contact, whose *.invalid host is never resolved: it goes over this connection
// (RFC 7118 section 5.3).
func (c *conn) sendBye(cl *call) {
	inv := cl.invite
	target := inv.From().Address
	if ct := inv.Contact(); ct != nil {
		target = ct.Address
	}
	bye := sip.NewRequest(sip.BYE, *target.Clone())
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: c.transport,
		Host: newTag() + ".invalid", Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranch())
	bye.AppendHeader(via)
	bye.AppendHeader(sip.NewHeader("Max-Forwards", "70"))
	to := inv.To()
	from := &sip.FromHeader{DisplayName: to.DisplayName, Address: *to.Address.Clone(), Params: to.Params.Clone()}
	from.Params.Add("tag", cl.localTag)
	bye.AppendHeader(from)
	peer := inv.From()
	bye.AppendHeader(&sip.ToHeader{DisplayName: peer.DisplayName, Address: *peer.Address.Clone(), Params: peer.Params.Clone()})
	callID := sip.CallIDHeader(cl.id)
	bye.AppendHeader(&callID)
	c.mu.Lock()
	c.cseq++
	seq := c.cseq
	c.mu.Unlock()
	bye.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: sip.BYE})
	bye.AppendHeader(sip.NewHeader("User-Agent", "confd"))
	bye.SetBody(nil)
	c.s.stats.byeOut.Add(1)
	c.sendMessage(bye)
}
