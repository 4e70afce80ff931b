package sipleg

import (
	"cmp"
	"context"
	"log/slog"
	"mime"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"confd/bridge"
	"confd/dtmf"
	"confd/jitter"
	"confd/sdpneg"
	"confd/sipua"
)

// byeTimeout bounds a BYE transaction: 64*T1 (RFC 3261 section 17.1.2.2) after which the
// remote is gone anyway.
const byeTimeout = 32 * time.Second

// call is one SIP dialog and its media: a bridge.Leg. It reaches the room when admitted (or
// after the IVR), and leaves it when the dialog ends for any reason.
type call struct {
	s      *Server
	log    *slog.Logger
	callID string
	media  *MediaSocket
	sess   *sdpneg.Session
	peer   string // the peer's signalling address or host: SDP carries the interface that reaches it

	dlgS *sipgo.DialogServerSession // an incoming call
	dlgC *sipgo.DialogClientSession // a dial-out call

	inDialog dialogRate // the peer's budget of in-dialog requests (dialograte.go)

	name, from string
	fromUser   string // the From URI's user: with a trunk source, the PIN attempt key's caller
	room, pin  string
	modPIN     string      // the room's moderator PIN (moderator.go)
	moderator  atomic.Bool // joins as a moderator (moderator.go)
	dialIn     bool
	outbound   bool
	cascade    string // the other node, for a cascade leg (cascade.go)
	census     censusSender

	// recordedName is the name the caller said at the IVR (name.go), nil for none.
	recordedName atomic.Pointer[bridge.HoldMusic]

	// src and admitted: the place the door gave this incoming call, released by end.
	src      netip.Addr
	admitted bool
	// pending is set while the call holds a place among its source's calls awaiting their ACK
	// (door.pending); releasePending gives it back once.
	pending atomic.Bool

	mu           sync.Mutex
	res          *sdpneg.Result
	lateOffer    bool // the INVITE had no SDP: our offer is in the 200, the answer in the ACK
	pendingOffer bool // a re-INVITE without SDP: the answer comes in its ACK
	entered      bool
	answeredAt   time.Time
	awaitAck     *pendingAck // the 2xx to a re-INVITE that is retransmitted until its ACK
	confirmed    bool        // the ACK of the first 2xx came (RFC 3261 section 13.3.1.4)
	holdSince    time.Time   // when the remote last put the call on hold
	timer        sessionTimer
	timerFrom    time.Time // when timer was last negotiated or refreshed
	refreshing   bool      // an UPDATE refresh is in flight

	lastRTCP atomic.Int64 // unix nanoseconds of the last RTCP packet accepted

	acked chan struct{} // closed by the ACK of the first 2xx

	part atomic.Pointer[bridge.Participant]
	ivr  atomic.Pointer[ivr]
	hold atomic.Bool
	xfer atomic.Pointer[transfer] // the transfer out of the room in progress (transfer.go)

	endOnce, hangupOnce sync.Once
	done                chan struct{}
	// ctx ends with the call (end): what it sends in its dialog on its own (the census) stops
	// waiting for an answer then.
	ctx    context.Context
	cancel context.CancelFunc
}

func newCall(s *Server, callID string, media *MediaSocket) *call {
	c := &call{s: s, log: s.log.With("call", callID), callID: callID, media: media,
		sess: sdpneg.NewSession(), done: make(chan struct{}), acked: make(chan struct{}), answeredAt: time.Now()}
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	media.Start(c.onRTP, c.onRTCP)
	return c
}

// SendRTP implements bridge.Leg: the room's tick hands over one packet, sent without blocking.
func (c *call) SendRTP(pkt []byte) { c.media.SendRTP(pkt) }

// SendRTCP implements bridge.RTCPLeg: the room hands over the participant's report when it is
// due, sent without blocking.
func (c *call) SendRTCP(pkt []byte) { c.media.SendRTCP(pkt) }

// Hangup implements bridge.Leg: confd ends the call with a BYE.
func (c *call) Hangup(reason string) {
	go c.hangup(c.s.ctx, reason)
}

// onRTP hands each RTP packet, parsed once by the media socket, to the participant
// (bridge.Participant.PushRTPPacket) or the IVR.
func (c *call) onRTP(h *rtp.Header, payload []byte, now time.Time) {
	if p := c.part.Load(); p != nil {
		_ = p.PushRTPPacket(h, payload, now)
		return
	}
	if v := c.ivr.Load(); v != nil {
		v.onRTP(h, payload, now)
	}
}

// onRTCP hands each RTCP packet to the participant; one it cannot parse is the media socket's
// to count (MediaStats.Malformed).
func (c *call) onRTCP(pkt []byte, now time.Time) error {
	c.lastRTCP.Store(now.UnixNano())
	if p := c.part.Load(); p != nil {
		return p.PushRTCP(pkt, now)
	}
	return nil
}

// setResult applies a negotiation to the media socket: where to send, whether to send, hold.
func (c *call) setResult(res *sdpneg.Result) {
	c.mu.Lock()
	c.res = res
	c.mu.Unlock()
	c.media.SetRemote(res.Remote, res.RemoteRTCP, res.RTCPMux)
	c.media.SetNATHost(c.natHost())
	c.media.SetPayloadTypes(remotePayloadTypes(res)...)
	c.media.SetSending(res.LocalDirection.Sends())
	// The remote holds the call when it will not receive (sendonly: music on hold, inactive):
	// then whatever it sends is not mixed (RFC 3264 section 8.4).
	hold := !res.RemoteDirection.Receives()
	if hold && !c.hold.Load() {
		c.mu.Lock()
		c.holdSince = time.Now()
		c.mu.Unlock()
	}
	c.hold.Store(hold)
	if p := c.part.Load(); p != nil {
		p.SetHold(hold)
	}
}

func (c *call) result() *sdpneg.Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.res
}

// participantInfo describes the negotiated media to the bridge.
func (c *call) participantInfo(res *sdpneg.Result) bridge.ParticipantInfo {
	info := bridge.ParticipantInfo{
		Name: c.name, From: c.from, Kind: bridge.KindSIP,
		Output: res.SendFormat(), OutputPT: res.PayloadType, Input: inputsOf(res),
		Moderator: c.moderator.Load(), RecordedName: c.recordedName.Load(),
	}
	if c.cascade != "" {
		c.cascadeInfo(&info)
	}
	return info
}

// inputsOf lists the payload types the remote sends: the codec and telephone-event.
func inputsOf(res *sdpneg.Result) []jitter.PayloadType {
	in := []jitter.PayloadType{{Type: res.LocalPayloadType, Kind: jitter.Audio, Codec: res.Codec}}
	if te := res.TelephoneEvent; te.Present() {
		in = append(in, jitter.PayloadType{Type: te.LocalPayloadType, Kind: jitter.TelephoneEvent, ClockRate: te.ClockRate})
	}
	return in
}

// enter sends the negotiated call where it goes: the IVR for a dial-in number or a room with a
// PIN, else straight into the room.
func (c *call) enter() error {
	c.mu.Lock()
	if c.entered {
		c.mu.Unlock()
		return nil
	}
	c.entered = true
	c.mu.Unlock()
	if c.dialIn || c.pin != "" || c.modPIN != "" {
		c.startIVR()
		return nil
	}
	return c.join(c.room, nil)
}

// join puts the call into room. stream is the RTP stream the call has sent on before (the
// IVR's prompts), which the room goes on with, or nil.
func (c *call) join(room string, stream *bridge.RTPSender) error {
	res := c.result()
	info := c.participantInfo(res)
	info.Stream = stream
	p, err := c.s.bridge.Join(room, info, c)
	if err != nil {
		return err
	}
	c.room = room
	p.SetHold(c.hold.Load())
	c.part.Store(p)
	if cs := c.census.received.Load(); cs != nil {
		p.SetCensus(*cs) // it came before the join (censusInfo)
	}
	select {
	case <-c.done: // ended while joining
		p.Leave("ended")
	default:
	}
	return nil
}

// reject answers an INVITE whose offer failed to negotiate (RFC 3264 section 6: 488 with a
// Warning, RFC 3261 section 20.43).
func (c *call) reject(err error) {
	r := sdpRefusal(err)
	c.dlgS.Respond(r.Status, sipua.Reason(r.Reason), nil, r.Headers...)
}

// sdpRefusal is the answer to an offer sdpneg could not answer (sdpneg.RejectionFor; 488 with
// a Warning for anything else).
func sdpRefusal(err error) *sipua.Refusal {
	rej, ok := sdpneg.RejectionFor(err)
	if !ok {
		rej = sdpneg.Rejection{Status: 488, Reason: "Not Acceptable Here", Warning: 399, Text: err.Error()}
	}
	r := &sipua.Refusal{Status: rej.Status, Reason: rej.Reason + " (" + rej.Text + ")"}
	if rej.Warning != 0 {
		r.Headers = []sip.Header{sipua.Warning(rej.Warning, rej.Text)}
	}
	return r
}

// answer sends the 2xx of the INVITE with body (our answer, or our offer for a late offer)
// and returns; the ACK is awaited by awaitACK. The 2xx carries our Contact and, when the
// caller asked for one, the session timer (RFC 4028).
func (c *call) answer(tx sip.ServerTransaction, body []byte) error {
	res := sip.NewSDPResponseFromRequest(c.dlgS.InviteRequest, body)
	c.s.mu.Lock()
	contact := c.s.contact
	c.s.mu.Unlock()
	res.AppendHeader(&contact)
	c.mu.Lock()
	for _, h := range c.timer.headers() {
		res.AppendHeader(h)
	}
	c.timerFrom = time.Now()
	c.dlgS.InviteResponse = res // what sipgo's Bye builds on (read after the ACK, under c.mu)
	c.mu.Unlock()
	if err := tx.Respond(res); err != nil {
		return err
	}
	go c.awaitACK(tx, res)
	return nil
}

// awaitACK retransmits the INVITE's 2xx until its ACK (RFC 3261 section 13.3.1.4: the UAS
// core, at T1 doubling up to T2). A 2xx not ACKed by Timer H (64*T1) ends the call without a
// BYE: nobody confirmed the dialog, its source may be spoofed, and a BYE would be one more
// message sent at it. So an un-ACKed INVITE costs one media port for at most Timer H.
func (c *call) awaitACK(tx sip.ServerTransaction, res *sip.Response) {
	if retransmit2xx(tx, res, c.s.cfg.t1, c.acked, c.done, c.ack) {
		c.releasePending()
		return
	}
	select {
	case <-c.done:
	default:
		c.log.Info("no ACK for the 2xx of the INVITE")
		c.end("no ACK")
	}
}

// retransmit2xx sends res again at t1 doubling up to T2 until acked or done is closed, or
// for 64*t1. It reports whether the ACK came (or the call ended otherwise). An ACK that
// reaches the transaction itself (one that reused the INVITE's branch) is handed to onAck.
func retransmit2xx(tx sip.ServerTransaction, res *sip.Response, t1 time.Duration, acked, done <-chan struct{},
	onAck func(*sip.Request, sip.ServerTransaction)) bool {
	interval := t1
	timer := time.NewTimer(interval)
	defer timer.Stop()
	giveUp := time.NewTimer(64 * t1)
	defer giveUp.Stop()
	for {
		select {
		case <-acked:
			return true
		case <-done:
			return true
		case req := <-tx.Acks():
			if onAck != nil {
				onAck(req, tx)
			}
		case <-giveUp.C:
			return false
		case <-timer.C:
			_ = tx.Respond(res) // fails once the transaction is gone: the timers go on
			interval = min(2*interval, sip.T2)
			timer.Reset(interval)
		}
	}
}

// isConfirmed reports whether the call's dialog is confirmed: the ACK of the INVITE's 2xx
// came, or it is a dial-out call (confd sends that ACK).
func (c *call) isConfirmed() bool {
	if c.outbound {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.confirmed
}

// tags returns the dialog's local (confd's) and remote tags, once they are known.
func (c *call) tags() (local, remote string, ok bool) {
	switch {
	case c.dlgS != nil:
		to, from := c.dlgS.InviteRequest.To(), c.dlgS.InviteRequest.From()
		if to == nil || from == nil {
			return "", "", false
		}
		local, _ = to.Params.Get("tag")
		remote, _ = from.Params.Get("tag")
		return local, remote, true
	case c.dlgC != nil:
		res := c.dlgC.InviteResponse
		from := c.dlgC.InviteRequest.From()
		if res == nil || res.To() == nil || from == nil {
			return "", "", false
		}
		local, _ = from.Params.Get("tag")
		remote, _ = res.To().Params.Get("tag")
		return local, remote, true
	}
	return "", "", false
}

// ack handles the ACK of the INVITE or of a re-INVITE. The first ACK confirms the dialog: only
// then does the call enter its room or the IVR. It carries the answer to an offer confd made
// in the 200 (RFC 3264 section 4, late offer); it stops the retransmission of a re-INVITE's
// 2xx.
func (c *call) ack(req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	if p := c.awaitAck; p != nil && req.CSeq() != nil && req.CSeq().SeqNo == p.cseq {
		close(p.acked)
		c.awaitAck = nil
	}
	first := !c.confirmed && !c.outbound && c.dlgS != nil && req.CSeq() != nil &&
		req.CSeq().SeqNo == c.dlgS.InviteRequest.CSeq().SeqNo
	if first {
		c.confirmed = true
		close(c.acked)
	}
	waiting := c.lateOffer || c.pendingOffer
	c.lateOffer, c.pendingOffer = false, false
	c.mu.Unlock()
	if c.dlgS != nil {
		_ = c.dlgS.ReadAck(req, tx)
	}
	if waiting {
		if len(req.Body()) == 0 {
			c.log.Info("ACK without the answer to our offer")
			go c.hangup(c.s.ctx, "no answer in ACK")
			return
		}
		res, err := c.sess.ParseAnswer(req.Body())
		if err != nil {
			c.log.Info("bad answer in ACK", "err", err)
			go c.hangup(c.s.ctx, "bad answer in ACK")
			return
		}
		c.apply(res)
	}
	if first {
		c.prepareIVR() // a late offer is negotiated only now
		c.mu.Lock()
		c.answeredAt = time.Now()
		c.mu.Unlock()
		if err := c.enter(); err != nil {
			c.log.Info("refused at ACK", "err", err)
			go c.hangup(c.s.ctx, "refused")
		}
	}
}

// apply takes a new negotiation mid-call: address, hold, codec change.
func (c *call) apply(res *sdpneg.Result) {
	old := c.result()
	c.setResult(res)
	if p := c.part.Load(); p != nil && old != nil && (old.Codec != res.Codec || old.PayloadType != res.PayloadType ||
		old.LocalPayloadType != res.LocalPayloadType || old.TelephoneEvent != res.TelephoneEvent || old.SendFormat() != res.SendFormat()) {
		if err := p.SetMedia(c.sendFormat(res), res.PayloadType, inputsOf(res)); err != nil {
			c.log.Warn("codec change failed", "err", err)
		}
	}
	c.log.Info("media", "sdp", res.String(), "hold", c.hold.Load())
}

// modify answers a re-INVITE or an UPDATE in the dialog (RFC 3311): hold, unhold, codec
// change, or a session refresh. A failed negotiation is answered 488 and changes nothing
// (RFC 3261 section 14.2).
func (c *call) modify(req *sip.Request, tx sip.ServerTransaction, invite bool) {
	timer, r := c.s.sessionTimer(req)
	if r != nil {
		refuse(tx, req, r)
		return
	}
	local := c.s.local(c.media.Port(), c.peer)
	var body []byte
	if len(req.Body()) > 0 {
		res, answer, err := c.sess.Answer(req.Body(), local)
		if err != nil {
			rej, ok := sdpneg.RejectionFor(err)
			if !ok {
				rej = sdpneg.Rejection{Status: 488, Reason: "Not Acceptable Here", Text: err.Error()}
			}
			respond(tx, req, rej.Status, rej.Reason, sipua.Warning(cmp.Or(rej.Warning, 399), rej.Text))
			return
		}
		if !res.Unchanged {
			c.apply(res)
		}
		body = answer
	} else if invite {
		offer, err := c.sess.Offer(local)
		if err != nil {
			respond(tx, req, 500, "Server Internal Error")
			return
		}
		c.mu.Lock()
		c.pendingOffer = true
		c.mu.Unlock()
		body = offer
	}
	var res *sip.Response
	if body != nil {
		res = sip.NewSDPResponseFromRequest(req, body)
	} else {
		res = sip.NewResponseFromRequest(req, 200, "OK", nil)
	}
	c.s.mu.Lock()
	contact := c.s.contact
	c.s.mu.Unlock()
	res.AppendHeader(&contact)
	for _, h := range timer.headers() {
		res.AppendHeader(h)
	}
	// A re-INVITE or UPDATE that succeeds is a session refresh (RFC 4028 section 10).
	c.refreshed(timer, time.Now())
	if err := tx.Respond(res); err != nil || !invite {
		return
	}
	p := &pendingAck{cseq: req.CSeq().SeqNo, acked: make(chan struct{})}
	c.mu.Lock()
	if old := c.awaitAck; old != nil {
		close(old.acked) // a newer re-INVITE came without the ACK of the last: stop that one
	}
	c.awaitAck = p
	c.mu.Unlock()
	go c.awaitReAck(tx, res, p)
}

// pendingAck is a re-INVITE's 2xx waiting for its ACK.
type pendingAck struct {
	cseq  uint32
	acked chan struct{} // closed by the ACK
}

// awaitReAck sends a re-INVITE's 2xx again until its ACK arrives: the UAS core, not the
// transaction, retransmits a 2xx (RFC 3261 section 13.3.1.4, RFC 6026). Without an ACK by
// 64*T1 the call is ended with a BYE, as the RFC asks (this dialog was confirmed).
func (c *call) awaitReAck(tx sip.ServerTransaction, res *sip.Response, p *pendingAck) {
	if retransmit2xx(tx, res, c.s.cfg.t1, p.acked, c.done, c.ack) {
		return
	}
	c.mu.Lock()
	if c.awaitAck == p {
		c.awaitAck = nil
	}
	c.mu.Unlock()
	c.log.Info("no ACK for the 2xx of a re-INVITE", "cseq", p.cseq)
	go c.hangup(c.s.ctx, "no ACK")
}

// info handles SIP INFO: DTMF as application/dtmf-relay or application/dtmf (sipua.InfoDigit).
// An INFO without a body is a keep-alive (RFC 6086) and is answered 200; another content type
// is answered 415 with Accept, an unreadable body 400, and neither changes anything.
func (c *call) info(req *sip.Request, tx sip.ServerTransaction) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == CensusContentType {
		c.censusInfo(req, tx) // media types are case-insensitive and may carry parameters
		return
	}
	digit, r := sipua.InfoDigit(ct, req.Body())
	if r != nil {
		refuse(tx, req, r)
		return
	}
	if digit != 0 {
		// Queued before the 200: a phone sends its next INFO on that answer, and sipgo
		// handles each request on a goroutine of its own, so a digit queued after it could
		// be overtaken by the next.
		c.digit(digit)
	}
	respond(tx, req, 200, "OK")
}

// digit routes one DTMF digit: to the IVR while there, else to the participant (events, *6).
func (c *call) digit(d dtmf.Digit) {
	if v := c.ivr.Load(); v != nil {
		v.digit(d)
		return
	}
	if p := c.part.Load(); p != nil {
		p.DTMF(byte(d), time.Now())
	}
}

// bye handles the remote's BYE.
func (c *call) bye(req *sip.Request, tx sip.ServerTransaction) {
	var err error
	switch {
	case c.dlgS != nil:
		err = c.dlgS.ReadBye(req, tx)
	case c.dlgC != nil:
		err = c.dlgC.ReadBye(req, tx)
	}
	if err != nil {
		respond(tx, req, 200, "OK")
	}
	c.end("bye")
}

// hangup ends the call from confd's side: BYE (retransmitted by its client transaction until
// answered or timed out), then the call's end.
func (c *call) hangup(ctx context.Context, reason string) {
	c.hangupOnce.Do(func() {
		select {
		case <-c.done:
			return
		default:
		}
		if !c.isConfirmed() {
			c.end(reason) // no BYE before the ACK (awaitACK)
			return
		}
		// The call is over for confd from now on: no more media while the BYE is retransmitted
		// (up to byeTimeout) to a peer that may be gone, or that was never there.
		c.media.SetSending(false)
		ctx, cancel := context.WithTimeout(ctx, byeTimeout)
		defer cancel()
		bye, err := c.newInDialogRequest(sip.BYE)
		switch {
		case err != nil:
		case c.dlgS != nil:
			err = c.dlgS.WriteBye(ctx, bye)
		case c.dlgC != nil:
			err = c.dlgC.WriteBye(ctx, bye)
		}
		if err != nil {
			c.log.Info("BYE", "err", err)
		}
		c.end(reason)
	})
}

// end releases everything the call holds; it is safe to call more than once.
func (c *call) end(reason string) {
	c.endOnce.Do(func() {
		close(c.done)
		c.cancel()
		if v := c.ivr.Load(); v != nil {
			v.stop()
		}
		if p := c.part.Load(); p != nil {
			p.Leave(reason)
		}
		c.media.Close()
		c.s.removeCall(c)
		if c.admitted {
			c.s.door.calls.Release(c.src)
		}
		c.releasePending()
		if c.dlgS != nil {
			c.dlgS.Close()
		}
		if c.dlgC != nil {
			c.dlgC.Close()
		}
		c.log.Info("call ended", "reason", reason, "media", c.media.Stats())
	})
}

// tick runs once a second from the server's watchdog: the no-media and hold timeouts and the
// session timer. The room sends the call's RTCP reports (bridge.RTCPLeg).
func (c *call) tick(now time.Time) {
	p := c.part.Load()
	if p == nil && c.ivr.Load() == nil || !c.isConfirmed() {
		return // not in the room nor the IVR yet (awaitACK bounds a call without its ACK)
	}
	c.mu.Lock()
	last := c.answeredAt
	c.mu.Unlock()
	if t := c.media.LastRTP(); t.After(last) {
		last = t
	}
	if !c.hold.Load() && now.Sub(last) > c.s.cfg.NoMediaTimeout {
		c.log.Info("no media", "since", last)
		go c.hangup(c.s.ctx, "no media")
		return
	}
	if c.hold.Load() {
		// A held call sends no audio, but a live phone still sends RTCP (or music on hold);
		// one that sends neither for HoldTimeout is gone and its ports are freed (issue 8).
		c.mu.Lock()
		since := c.holdSince
		c.mu.Unlock()
		if t := time.Unix(0, c.lastRTCP.Load()); t.After(since) {
			since = t
		}
		if last.After(since) {
			since = last
		}
		if now.Sub(since) > c.s.limits.HoldTimeout {
			c.log.Info("on hold without media", "since", since)
			go c.hangup(c.s.ctx, "held without media")
			return
		}
	}
	c.checkSessionTimer(now)
}

// natHost is the host a caller behind NAT sends its media from (MediaSocket.SetNATHost): the
// source of its signalling, unless that is a trunk (a proxy or SBC whose callers' media comes
// from their own addresses) or not an address (a dial-out to a host name).
func (c *call) natHost() netip.Addr {
	ap, err := netip.ParseAddrPort(c.peer)
	if err != nil || c.s.gate.Auth.Trunk(c.peer) {
		return netip.Addr{}
	}
	return ap.Addr()
}

// releasePending gives back the call's place among its source's calls awaiting their ACK.
func (c *call) releasePending() {
	if c.pending.CompareAndSwap(true, false) {
		c.s.door.pendingOf(c.src).Release(c.src)
	}
}
