package sipleg

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"confd/bridge"
	"confd/internal/config"
)

// dialTimeout bounds how long a dial-out rings before it is cancelled.
const dialTimeout = 60 * time.Second

// DialOut calls uri (a sip: URI) into room: an INVITE offering Config.Codecs (Opus, PCMU,
// PCMA, G.722) and telephone-event, digest challenges (401/407, RFC 3261 section 22.2)
// answered from the configured credentials, and the callee joined when it answers. It returns the call's id (its
// Call-ID) at once; progress is published on the bus as "dial" events with the status code of
// every response (18x ringing, 200 answered, failures), and finally "answered" or "failed".
//
// A room that is a dial-in number cannot dial out (ErrDialNumber), nor can a draining server
// (ErrDraining).
func (s *Server) DialOut(ctx context.Context, room, uri string) (string, error) {
	if s.draining.Load() {
		return "", ErrDraining
	}
	if s.isDialIn(room) {
		return "", fmt.Errorf("%w: %s", ErrDialNumber, room)
	}
	var target sip.Uri
	if err := sip.ParseUri(uri, &target); err != nil || (target.Scheme != "sip" && target.Scheme != "") || target.Host == "" {
		return "", fmt.Errorf("%w: %q", ErrBadURI, uri)
	}
	if _, err := s.bridge.Admit(room); err != nil {
		return "", err
	}
	media, err := s.cfg.Ports.Open()
	if err != nil {
		return "", err
	}
	c := newCall(s, "", media)
	c.outbound, c.room, c.from = true, room, uri
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
	dlg, err := clients.Invite(ctx, target, offer, sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		media.Close()
		return "", err
	}
	c.dlgC = dlg
	c.callID = dlg.InviteRequest.CallID().Value()
	c.log = s.log.With("call", c.callID)
	s.addCall(c)
	cred := credentialFor(s.cfg.Credentials, target.Host)
	go c.dial(uri, cred)
	return c.callID, nil
}

// credentialFor picks the credential whose realm is the target's host, else the one for any
// realm (""), else the first. sipgo answers a challenge with one user name and password, fixed
// before the challenge names its realm.
func credentialFor(creds []config.Credential, host string) config.Credential {
	for _, c := range creds {
		if strings.EqualFold(c.Realm, host) {
			return c
		}
	}
	for _, c := range creds {
		if c.Realm == "" {
			return c
		}
	}
	if len(creds) > 0 {
		return creds[0]
	}
	return config.Credential{}
}

func (c *call) publishDial(uri string, data map[string]any) {
	data["id"], data["uri"] = c.callID, uri
	c.s.bridge.Bus().Publish(bridge.Event{Type: bridge.EventDial, Room: c.room, Data: data})
}

// dial waits for the callee's answer and joins it.
func (c *call) dial(uri string, cred config.Credential) {
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
	if err := c.join(c.room); err != nil {
		c.publishDial(uri, map[string]any{"state": "failed", "error": err.Error()})
		c.hangup(c.s.ctx, "refused")
		return
	}
	c.publishDial(uri, map[string]any{"state": "answered", "status": 200})
}
