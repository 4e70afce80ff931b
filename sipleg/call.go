package sipleg

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"confd/bridge"
	"confd/internal/dtmf"
	"confd/internal/sdpneg"
	"confd/jitter"
)

// rtcpInterval is how often a call sends an RTCP report (RFC 3550 section 6.2 suggests 5 s).
const rtcpInterval = 5 * time.Second

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

	name, from string
	room, pin  string
	dialIn     bool
	outbound   bool

	mu           sync.Mutex
	res          *sdpneg.Result
	lateOffer    bool // the INVITE had no SDP: our offer is in the 200, the answer in the ACK
	pendingOffer bool // a re-INVITE without SDP: the answer comes in its ACK
	entered      bool
	answeredAt   time.Time
	nextRTCP     time.Time
	awaitAck     *pendingAck // the 2xx to a re-INVITE that is retransmitted until its ACK

	part atomic.Pointer[bridge.Participant]
	ivr  atomic.Pointer[ivr]
	hold atomic.Bool

	endOnce, hangupOnce sync.Once
	done                chan struct{}
}

func newCall(s *Server, callID string, media *MediaSocket) *call {
	c := &call{s: s, log: s.log.With("call", callID), callID: callID, media: media,
		sess: sdpneg.NewSession(), done: make(chan struct{}), answeredAt: time.Now()}
	media.Start(c.onRTP, c.onRTCP)
	return c
}

// SendRTP implements bridge.Leg: the room's tick hands over one packet, sent without blocking.
func (c *call) SendRTP(pkt []byte) { c.media.SendRTP(pkt) }

// Hangup implements bridge.Leg: confd ends the call with a BYE.
func (c *call) Hangup(reason string) {
	go c.hangup(c.s.ctx, reason)
}

func (c *call) onRTP(pkt []byte, now time.Time) {
	if p := c.part.Load(); p != nil {
		_ = p.PushRTP(pkt, now)
		return
	}
	if v := c.ivr.Load(); v != nil {
		v.onRTP(pkt, now)
	}
}

func (c *call) onRTCP(pkt []byte, now time.Time) {
	if p := c.part.Load(); p != nil {
		_ = p.PushRTCP(pkt, now)
	}
}

// setResult applies a negotiation to the media socket: where to send, whether to send, hold.
func (c *call) setResult(res *sdpneg.Result) {
	c.mu.Lock()
	c.res = res
	c.mu.Unlock()
	c.media.SetRemote(res.Remote, res.RemoteRTCP, res.RTCPMux)
	c.media.SetPayloadTypes(remotePayloadTypes(res)...)
	c.media.SetSending(res.LocalDirection.Sends())
	// The remote holds the call when it will not receive (sendonly: music on hold, inactive):
	// then whatever it sends is not mixed (RFC 3264 section 8.4).
	hold := !res.RemoteDirection.Receives()
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
	return bridge.ParticipantInfo{
		Name: c.name, From: c.from, Kind: "sip",
		Output: res.SendFormat(), OutputPT: res.PayloadType, Input: inputsOf(res),
	}
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
	if c.dialIn || c.pin != "" {
		c.startIVR()
		return nil
	}
	return c.join(c.room)
}

// join puts the call into room.
func (c *call) join(room string) error {
	res := c.result()
	p, err := c.s.bridge.Join(room, c.participantInfo(res), c)
	if err != nil {
		return err
	}
	c.room = room
	p.SetHold(c.hold.Load())
	c.part.Store(p)
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
	rej, ok := sdpneg.RejectionFor(err)
	if !ok {
		rej = sdpneg.Rejection{Status: 488, Reason: "Not Acceptable Here", Warning: 399, Text: err.Error()}
	}
	var hdrs []sip.Header
	if rej.Warning != 0 {
		hdrs = append(hdrs, warning(rej))
	}
	c.dlgS.Respond(rej.Status, rej.Reason+" ("+rej.Text+")", nil, hdrs...)
}

func warning(rej sdpneg.Rejection) sip.Header {
	code := rej.Warning
	if code == 0 {
		code = 399
	}
	return sip.NewHeader("Warning", fmt.Sprintf("%d confd %q", code, strings.ReplaceAll(rej.Text, `"`, "'")))
}

// ack handles the ACK of the INVITE or of a re-INVITE: it carries the answer to an offer
// confd made in the 200 (RFC 3264 section 4, late offer), and stops the retransmission of a
// re-INVITE's 2xx.
func (c *call) ack(req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	if p := c.awaitAck; p != nil && req.CSeq() != nil && req.CSeq().SeqNo == p.cseq {
		close(p.acked)
		c.awaitAck = nil
	}
	waiting := c.lateOffer || c.pendingOffer
	first := c.lateOffer
	c.lateOffer, c.pendingOffer = false, false
	c.mu.Unlock()
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
		if first {
			if err := c.enter(); err != nil {
				c.log.Info("refused after late offer", "err", err)
				go c.hangup(c.s.ctx, "refused")
			}
		}
	}
	if c.dlgS != nil {
		_ = c.dlgS.ReadAck(req, tx)
	}
}

// apply takes a new negotiation mid-call: address, hold, codec change.
func (c *call) apply(res *sdpneg.Result) {
	old := c.result()
	c.setResult(res)
	if p := c.part.Load(); p != nil && old != nil && (old.Codec != res.Codec || old.PayloadType != res.PayloadType ||
		old.LocalPayloadType != res.LocalPayloadType || old.TelephoneEvent != res.TelephoneEvent || old.SendFormat() != res.SendFormat()) {
		if err := p.SetMedia(res.SendFormat(), res.PayloadType, inputsOf(res)); err != nil {
			c.log.Warn("codec change failed", "err", err)
		}
	}
	c.log.Info("media", "sdp", res.String(), "hold", c.hold.Load())
}

// modify answers a re-INVITE or an UPDATE in the dialog (RFC 3311): hold, unhold, codec
// change, or a session refresh. A failed negotiation is answered 488 and changes nothing
// (RFC 3261 section 14.2).
func (c *call) modify(req *sip.Request, tx sip.ServerTransaction, invite bool) {
	local := c.s.local(c.media.Port(), c.peer)
	var body []byte
	if len(req.Body()) > 0 {
		res, answer, err := c.sess.Answer(req.Body(), local)
		if err != nil {
			rej, ok := sdpneg.RejectionFor(err)
			if !ok {
				rej = sdpneg.Rejection{Status: 488, Reason: "Not Acceptable Here", Text: err.Error()}
			}
			respond(tx, req, rej.Status, rej.Reason, warning(rej))
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
	go c.retransmit2xx(tx, res, p)
}

// pendingAck is a re-INVITE's 2xx waiting for its ACK.
type pendingAck struct {
	cseq  uint32
	acked chan struct{} // closed by the ACK
}

// retransmit2xx sends a re-INVITE's 2xx again until its ACK arrives: the UAS core, not the
// transaction, retransmits a 2xx, at T1 doubling up to T2, for 64*T1 (RFC 3261 section
// 13.3.1.4, RFC 6026). sipgo does this for the dialog's first INVITE only. Without an ACK
// by then the call is ended with a BYE, as the RFC asks.
func (c *call) retransmit2xx(tx sip.ServerTransaction, res *sip.Response, p *pendingAck) {
	interval := sip.T1
	timer := time.NewTimer(interval)
	defer timer.Stop()
	giveUp := time.NewTimer(64 * sip.T1)
	defer giveUp.Stop()
	for {
		select {
		case <-p.acked:
			return
		case <-c.done:
			return
		case <-giveUp.C:
			c.mu.Lock()
			if c.awaitAck == p {
				c.awaitAck = nil
			}
			c.mu.Unlock()
			c.log.Info("no ACK for the 2xx of a re-INVITE", "cseq", p.cseq)
			go c.hangup(c.s.ctx, "no ACK")
			return
		case <-timer.C:
			if err := tx.Respond(res); err != nil {
				c.log.Debug("2xx retransmission", "err", err)
			}
			interval = min(2*interval, sip.T2)
			timer.Reset(interval)
		}
	}
}

// info handles SIP INFO: DTMF as application/dtmf-relay or application/dtmf (dtmf.ParseInfo).
// An INFO without a body is a keep-alive (RFC 6086) and is answered 200; another content type
// is answered 415 with Accept, an unreadable body 400, and neither changes anything.
func (c *call) info(req *sip.Request, tx sip.ServerTransaction) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	digit, status, reason := infoDigit(ct, req.Body())
	switch status {
	case 415:
		respond(tx, req, status, reason, sip.NewHeader("Accept", dtmf.ContentTypeDTMFRelay+", "+dtmf.ContentTypeDTMF))
		return
	case 200:
	default:
		respond(tx, req, status, reason)
		return
	}
	respond(tx, req, 200, "OK")
	if digit != 0 {
		c.digit(digit)
	}
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
		ctx, cancel := context.WithTimeout(ctx, byeTimeout)
		defer cancel()
		var err error
		switch {
		case c.dlgS != nil:
			err = c.dlgS.Bye(ctx)
		case c.dlgC != nil:
			err = c.dlgC.Bye(ctx)
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
		if v := c.ivr.Load(); v != nil {
			v.stop()
		}
		if p := c.part.Load(); p != nil {
			p.Leave(reason)
		}
		c.media.Close()
		c.s.removeCall(c)
		if c.dlgS != nil {
			c.dlgS.Close()
		}
		if c.dlgC != nil {
			c.dlgC.Close()
		}
		c.log.Info("call ended", "reason", reason, "media", c.media.Stats())
	})
}

// tick runs once a second from the server's watchdog: RTCP reports and the no-media timeout.
func (c *call) tick(now time.Time) {
	p := c.part.Load()
	if p == nil && c.ivr.Load() == nil {
		return
	}
	c.mu.Lock()
	sendRTCP := p != nil && !now.Before(c.nextRTCP)
	if sendRTCP {
		c.nextRTCP = now.Add(rtcpInterval)
	}
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
	if sendRTCP {
		if pkt, err := p.RTCPReport(now); err == nil {
			c.media.SendRTCP(pkt)
		}
	}
}
