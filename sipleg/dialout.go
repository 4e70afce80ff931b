package sipleg

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"confd/bridge"
	"confd/internal/guard"
)

// dialTimeout bounds how long a dial-out rings before it is cancelled.
const dialTimeout = 60 * time.Second

var (
	// ErrDialNotAllowed is returned by DialOut for a destination that Config.DialOut.Allow does
	// not list; nothing is sent.
	ErrDialNotAllowed = errors.New("sipleg: destination not allowed for dial-out")
	// ErrDialRateLimited is returned by DialOut when dial-outs start faster than
	// Config.DialOut.Rate and Burst allow; it wraps a *guard.Refusal with the wait.
	ErrDialRateLimited = errors.New("sipleg: dial-out rate limit")
	// ErrNoCredential ends a dial-out whose callee challenged (401/407) in a realm no
	// configured credential answers for that host: no Authorization is sent.
	ErrNoCredential = errors.New("sipleg: no credential for this challenge")
)

// Defaults of DialOut.
const (
	defaultDialRate  = 1
	defaultDialBurst = 10
)

// dialPolicy is DialOut at work: the allowed destinations and the dial rate.
type dialPolicy struct {
	allow guard.DialAllow
	rate  *guard.Admission
}

// newDialPolicy reads cfg; an Allow entry that is neither a number nor a host is
// guard.ErrBadDialAllow.
func newDialPolicy(cfg DialOut) (*dialPolicy, error) {
	allow, err := guard.ParseDialAllow(cfg.Allow)
	if err != nil {
		return nil, err
	}
	rate, burst := cfg.Rate, cfg.Burst
	if rate <= 0 {
		rate = defaultDialRate
	}
	if burst <= 0 {
		burst = defaultDialBurst
	}
	return &dialPolicy{allow: allow, rate: guard.NewAdmission(guard.AdmissionConfig{Rate: rate, Burst: burst})}, nil
}

// allows decides whether target is a destination confd may have called: one it dials
// itself, or one it asks a phone to call (a transfer, REFER). The phone may be a carrier's
// trunk that places the call on the operator's account, so the allow-list that guards dial-out
// against toll fraud guards transfers too.
func (p *dialPolicy) allows(target sip.Uri) error {
	if !p.allow.Allows(target.User, target.Host) {
		return fmt.Errorf("%w: %s (see security.dialout.allow): %w", ErrDialNotAllowed, target.Addr(), guard.ErrNotAllowed)
	}
	return nil
}

// admit decides whether confd may dial target now, before anything is sent.
func (p *dialPolicy) admit(target sip.Uri) error {
	if err := p.allows(target); err != nil {
		return err
	}
	// One bucket for every room: dial-out is one shared trunk, whoever asks for it.
	if err := p.rate.Allow(netip.Addr{}, time.Now()); err != nil {
		return fmt.Errorf("%w: %w", ErrDialRateLimited, err)
	}
	return nil
}

// DialOut calls uri (a sip: or sips: URI, parseURI; a sips: one over TLS) into room: an
// INVITE offering Config.Codecs (Opus, PCMU, PCMA, G.722) and telephone-event, digest
// challenges (401/407, RFC 3261 section 22.2) answered only with a configured credential of the
// challenge's realm for the target's host (credentialFor), and the callee joined when it
// answers. A destination that
// Config.DialOut.Allow does not list (ErrDialNotAllowed) or a dial past its rate
// (ErrDialRateLimited) is refused before anything is sent. It returns the call's id (its
// Call-ID) at once; progress is published on the bus as "dial" events with the status code of
// every response (18x ringing, 200 answered, failures), and finally "answered" or "failed".
//
// A room that is a dial-in number cannot dial out (ErrDialNumber), nor can a draining server
// (ErrDraining).
func (s *Server) DialOut(ctx context.Context, room, uri string) (string, error) {
	return s.dial(ctx, room, uri, "")
}

// dial is DialOut; a cascade leg (DialCascade) names this node in cascade, which adds the
// X-Confd-Cascade header and skips Config.DialOut's destinations and rate (the cluster's nodes
// are configured, and one cascade per room and node is all there is).
func (s *Server) dial(ctx context.Context, room, uri, cascade string) (string, error) {
	// A draining node still cascades: its calls go on to the end, hearing their room.
	if s.gate.Draining() && cascade == "" {
		return "", ErrDraining
	}
	if s.isDialIn(room) {
		return "", fmt.Errorf("%w: %s", ErrDialNumber, room)
	}
	target, err := parseURI(uri)
	if err != nil {
		return "", err
	}
	if cascade == "" {
		if err := s.dialOut.admit(target); err != nil {
			return "", err
		}
	}
	// A cascade to the room's owner is this node's own leg: it is placed into a draining bridge
	// or a room full of this node's people all the same, as its Join will be (call.cascadeInfo).
	if _, err := s.bridge.AdmitAs(room, bridge.ParticipantInfo{Cascade: cascade, WhileDraining: cascade != ""}); err != nil {
		return "", err
	}
	media, err := s.cfg.Ports.Open()
	if err != nil {
		return "", err
	}
	c := newCall(s, "", media)
	c.outbound, c.room, c.from, c.cascade = true, room, uri, cascade
	c.peer = target.Host
	offer, err := c.sess.Offer(s.local(media.Port(), c.peer))
	if err != nil {
		media.Close()
		return "", err
	}
	s.mu.Lock()
	clients := s.dialClients
	s.mu.Unlock()
	if clients == nil {
		media.Close()
		return "", fmt.Errorf("%w: not serving", ErrClosed)
	}
	hdrs := []sip.Header{sip.NewHeader("Content-Type", "application/sdp")}
	if cascade != "" {
		hdrs = append(hdrs, sip.NewHeader(CascadeHeader, cascade))
	}
	dlg, err := clients.WriteInvite(ctx, inviteTo(target, offer, hdrs))
	if err != nil {
		media.Close()
		return "", err
	}
	c.dlgC = dlg
	c.callID = dlg.InviteRequest.CallID().Value()
	c.log = s.log.With("call", c.callID)
	s.addCall(c)
	cred, ok := credentialFor(s.cfg.Credentials, target.Host)
	go c.dial(uri, cred, ok)
	return c.callID, nil
}

// credentialFor picks the credential that may answer a challenge from host: one bound to host
// (its Host), else one without a host whose realm is named like host; ok is false when none
// may. A realm is no secret (any callee can name the provider's in its 407), so a credential
// without a host never goes to a host of another name. sipgo answers a challenge with one user
// name and password fixed before the challenge names its realm, so the realm is checked when it
// comes (challengeAllowed).
func credentialFor(creds []Credential, host string) (cred Credential, ok bool) {
	for _, c := range creds {
		if c.Host != "" && strings.EqualFold(c.Host, host) {
			return c, true
		}
	}
	for _, c := range creds {
		if c.Host == "" && c.Realm != "" && strings.EqualFold(c.Realm, host) {
			return c, true
		}
	}
	return Credential{}, false
}

// challengeAllowed checks a 401 or 407 against the credential picked for the dial: it returns
// nil when the challenge sipgo will answer (the first WWW-Authenticate or Proxy-Authenticate)
// names cred's realm, or cred has no realm and is bound to the target's host (it answers that
// host's every realm), and ErrNoCredential otherwise, which ends the dial before any
// Authorization is sent.
func challengeAllowed(res *sip.Response, cred Credential, ok bool) error {
	name := "WWW-Authenticate"
	if res.StatusCode == 407 {
		name = "Proxy-Authenticate"
	}
	h := res.GetHeader(name)
	if h == nil {
		return nil // no challenge: nothing is answered
	}
	realm := "?"
	if chal, err := digest.ParseChallenge(h.Value()); err == nil {
		realm = chal.Realm
	}
	if ok && (cred.Realm == realm || (cred.Realm == "" && cred.Host != "")) {
		return nil
	}
	return fmt.Errorf("%w: %d challenge for realm %q", ErrNoCredential, res.StatusCode, realm)
}

func (c *call) publishDial(uri string, data map[string]any) {
	data["id"], data["uri"] = c.callID, uri
	c.s.bridge.Bus().Publish(bridge.Event{Type: bridge.EventDial, Room: c.room, Data: data})
}

// dial waits for the callee's answer and joins it.
func (c *call) dial(uri string, cred Credential, credOK bool) {
	ctx, cancel := context.WithTimeout(c.s.ctx, dialTimeout)
	defer cancel()
	go func() {
		select {
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	err := c.dlgC.WaitAnswer(ctx, sipgo.AnswerOptions{
		Username: cred.User, Password: cred.Password,
		OnResponse: func(res *sip.Response) error {
			c.publishDial(uri, map[string]any{"status": res.StatusCode, "reason": res.Reason})
			if res.StatusCode == 401 || res.StatusCode == 407 {
				return challengeAllowed(res, cred, credOK)
			}
			return nil
		},
	})
	if err != nil {
		status := 0
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			status = de.Res.StatusCode
		}
		c.publishDial(uri, map[string]any{"state": "failed", "status": status, "error": err.Error()})
		c.log.Info("dial-out failed", "uri", uri, "err", err)
		c.end("dial failed")
		return
	}
	res, err := c.sess.ParseAnswer(c.dlgC.InviteResponse.Body())
	if err != nil {
		c.publishDial(uri, map[string]any{"state": "failed", "error": err.Error()})
		_ = c.dlgC.Ack(ctx)
		c.hangup(c.s.ctx, "bad answer")
		return
	}
	c.setResult(res)
	if err := c.dlgC.Ack(ctx); err != nil {
		c.log.Info("ACK", "err", err)
	}
	c.mu.Lock()
	c.answeredAt = time.Now()
	c.entered = true
	c.mu.Unlock()
	if err := c.join(c.room, nil); err != nil {
		c.publishDial(uri, map[string]any{"state": "failed", "error": err.Error()})
		c.hangup(c.s.ctx, "refused")
		return
	}
	c.publishDial(uri, map[string]any{"state": "answered", "status": 200})
}

// inviteTo is the INVITE to target with body and hdrs, as sipgo's DialogClientCache.Invite
// builds it (a transport= parameter chooses the transport), except that a sips: target is
// called over TLS whatever its parameters say (RFC 3261 section 26.2.2): sipgo would send it
// over UDP.
func inviteTo(target sip.Uri, body []byte, hdrs []sip.Header) *sip.Request {
	req := sip.NewRequest(sip.INVITE, target)
	req.SetBody(body)
	if tp, _ := target.UriParams.Get("transport"); tp != "" {
		req.SetTransport(tp)
	}
	if target.IsEncrypted() {
		req.SetTransport("TLS")
	}
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	return req
}
