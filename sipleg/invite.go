package sipleg

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"

	"confd/bridge"
	"confd/internal/guard"
	"confd/sipua"
)

// admission is what the admit step of a new INVITE decided, for the steps after it.
type admission struct {
	src     netip.Addr // the source, whose places (door.calls, door.pending) the call holds
	cascade string     // the calling node of a cascade leg (cascade.go), else ""
	room    string     // the Request-URI user: a room, or a dial-in number
	dialIn  bool       // room is a dial-in number: the IVR asks for the meeting
	pin     string     // the room's PIN the IVR asks for, "" for none
	timer   sessionTimer
	// settings are the room's, for its moderators (moderator.go); zero for a dial-in number
	// or a cascade leg.
	settings bridge.RoomSettings
}

// onInvite runs a new call through the admission pipeline both SIP legs share (sipua.Gate):
// admit (admitInvite), negotiate (negotiate: the dialog, a media port and the SDP answer), and
// answer (answerInvite: the 200). The call joins its room, or the IVR, only with the ACK
// (call.ack): before it the dialog may be a spoofed source's, and confd sends no media to the
// SDP address and shows no participant (issue 8).
func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil {
		if _, ok := to.Params.Get("tag"); ok {
			s.onReInvite(req, tx)
			return
		}
	}
	adm, ok := s.admitInvite(req, tx)
	if !ok {
		return
	}
	c, body, ok := s.negotiate(req, tx, adm)
	if !ok {
		s.releaseCall(adm.src) // the places admitInvite took: no call holds them
		return
	}
	s.answerInvite(c, tx, body, adm)
}

// admitInvite is the admit step: draining (503), a cascade leg's node (403), the source's call
// places (admitCall: 503), credentials and the room (sipua.Gate.Admit: 401, 403, 404, 486,
// 503), a live Call-ID (482) and the session interval (422). When it reports true the call
// holds its source's places (releaseCall gives them back); otherwise it has answered req.
func (s *Server) admitInvite(req *sip.Request, tx sip.ServerTransaction) (admission, bool) {
	if r := s.gate.Open(); r != nil {
		refuse(tx, req, r)
		return admission{}, false
	}
	cascade, ok := s.cascadeOf(req)
	if !ok {
		respond(tx, req, 403, "Forbidden (cascade from an unknown node)")
		return admission{}, false
	}
	adm := admission{src: guard.SourceAddr(req.Source()), cascade: cascade, room: req.Recipient.User}
	if !s.admitCall(req, tx, adm.src) {
		return admission{}, false
	}
	adm.dialIn = s.isDialIn(adm.room) && cascade == ""
	room := adm.room
	if adm.dialIn {
		room = "" // the IVR asks which meeting
	}
	if cascade != "" {
		room = "" // the room is checked below
	}
	settings, r := s.gate.Admit(req, req.Source(), room, false)
	if r == nil && cascade != "" {
		// A cascade carries people the other node admitted already: a room full of this node's
		// own people, or ending, takes it all the same (bridge.CascadeAdmitted); a draining node
		// takes no new cascade from another.
		if _, err := s.bridge.AdmitAs(adm.room, bridge.ParticipantInfo{Cascade: cascade}); err != nil {
			r = s.gate.RefusalOf(err)
		}
	}
	if r == nil && cascade == "" { // the first node asked for the PIN
		adm.pin, adm.settings = settings.PIN, settings
	}
	if r == nil && s.callByID(req) != nil {
		r = &sipua.Refusal{Status: 482, Reason: "Loop Detected"} // a second INVITE with a live Call-ID and no tag
	}
	if r == nil {
		adm.timer, r = s.sessionTimer(req)
	}
	if r != nil {
		s.releaseCall(adm.src)
		refuse(tx, req, r)
		return admission{}, false
	}
	return adm, true
}

// sessionTimer negotiates the RFC 4028 session timer of an INVITE or UPDATE that starts or
// refreshes a session: a Session-Expires below Limits.MinSessionExpires is refused 422 with
// Min-SE (section 6).
func (s *Server) sessionTimer(req *sip.Request) (sessionTimer, *sipua.Refusal) {
	minSE := s.limits.MinSessionExpires
	timer, err := negotiateSessionTimer(req, minSE)
	if err != nil {
		return sessionTimer{}, &sipua.Refusal{Status: 422, Reason: "Session Interval Too Small",
			Headers: []sip.Header{sip.NewHeader("Min-SE", strconv.Itoa(int(minSE/time.Second)))}}
	}
	return timer, nil
}

// releaseCall gives back the places of a call from src that admitCall took.
func (s *Server) releaseCall(src netip.Addr) {
	s.door.calls.Release(src)
	s.door.pendingOf(src).Release(src)
}

// negotiate is the negotiate step: the dialog (an RFC 2543 caller's made readable), a media
// port (503 when none is free), and the SDP answer to the offer (488 when nothing fits) or,
// for an INVITE without one, confd's offer (late offer: the answer comes in the ACK). When it
// reports false it has answered the INVITE and freed what it took.
func (s *Server) negotiate(req *sip.Request, tx sip.ServerTransaction, adm admission) (c *call, body []byte, ok bool) {
	s.mu.Lock()
	dialogs := s.dialogs
	s.mu.Unlock()
	rfc2543(req)
	dlg, err := dialogs.ReadInvite(req, tx)
	if err != nil {
		respond(tx, req, 400, "Bad Request ("+err.Error()+")")
		return nil, nil, false
	}
	media, err := s.cfg.Ports.Open()
	if err != nil {
		s.log.Warn("no media port", "err", err)
		dlg.Respond(503, "Service Unavailable (no media ports)", nil, sipua.RetryAfter(s.cfg.RetryAfter))
		dlg.Close()
		return nil, nil, false
	}
	c = newCall(s, req.CallID().Value(), media)
	c.dlgS, c.cascade, c.peer, c.timer = dlg, adm.cascade, req.Source(), adm.timer
	c.name, c.from = callerOf(req)
	if f := req.From(); f != nil {
		c.fromUser = f.Address.User
	}
	local := s.local(media.Port(), c.peer)
	if len(req.Body()) > 0 {
		res, answer, err := c.sess.Answer(req.Body(), local)
		if err != nil {
			media.Close() // before answering: a 488 waits for its ACK
			c.reject(err)
			dlg.Close()
			return nil, nil, false
		}
		c.setResult(res)
		return c, answer, true
	}
	offer, err := c.sess.Offer(local)
	if err != nil {
		media.Close()
		dlg.Respond(500, "Server Internal Error", nil)
		dlg.Close()
		return nil, nil, false
	}
	c.lateOffer = true
	return c, offer, true
}

// rfc2543 makes an RFC 2543 caller's INVITE one sipgo can build a dialog from: one without
// Contact (RFC 4475 section 3.4.1) is reached at its From, and one without a From tag gets
// one, so that the dialog has an identity (RFC 3261 section 12.1.1).
func rfc2543(req *sip.Request) {
	f := req.From()
	if f == nil {
		return
	}
	if req.Contact() == nil {
		req.AppendHeader(&sip.ContactHeader{Address: f.Address})
	}
	if _, ok := f.Params.Get("tag"); !ok {
		f.Params.Add("tag", rfc2543Tag)
	}
}

// answerInvite is the answer step: the call takes over its source's places (call.end gives
// them back, the ACK the pending one), becomes one of the server's calls, and its 200 goes
// out. Admit already refused a locked or full room; the room (or the IVR) is joined with the
// ACK (call.ack).
func (s *Server) answerInvite(c *call, tx sip.ServerTransaction, body []byte, adm admission) {
	c.src, c.admitted = adm.src, true
	c.pending.Store(true)
	s.addCall(c)
	c.room, c.pin, c.dialIn = adm.room, adm.pin, adm.dialIn
	c.moderatorSettings(adm.settings)
	c.prepareIVR()
	if err := c.answer(tx, body); err != nil {
		// A CANCEL won the race, or the transport failed: the call is over before it began.
		s.log.Info("call not answered", "call", c.callID, "err", err)
		c.end("not answered")
	}
}
