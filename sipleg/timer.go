package sipleg

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// errIntervalTooSmall is a Session-Expires below confd's Min-SE (RFC 4028 section 9: 422).
var errIntervalTooSmall = errors.New("sipleg: session interval too small")

// sessionTimer is the RFC 4028 session timer of a dialog, as negotiated by its last INVITE,
// re-INVITE or UPDATE; the zero value is no timer.
type sessionTimer struct {
	interval  time.Duration
	weRefresh bool // refresher=uas: confd sends the refreshes (UPDATE)
	required  bool // the peer supports timer: the 2xx carries Require: timer
}

// negotiateSessionTimer reads the Session-Expires (compact "x") and Supported of a request
// that starts or refreshes a session (RFC 4028 section 9): no Session-Expires is no timer; one
// below minSE is errIntervalTooSmall (the caller answers 422 with Min-SE); otherwise the
// refresher is the one asked for, else the UAC when it supports timer, else confd.
func negotiateSessionTimer(req *sip.Request, minSE time.Duration) (sessionTimer, error) {
	h := req.GetHeader("Session-Expires")
	if h == nil {
		h = req.GetHeader("x")
	}
	if h == nil {
		return sessionTimer{}, nil
	}
	val, params, _ := strings.Cut(h.Value(), ";")
	secs, err := strconv.Atoi(strings.TrimSpace(val))
	if err != nil || secs <= 0 {
		return sessionTimer{}, nil // unreadable: treated as absent
	}
	interval := time.Duration(secs) * time.Second
	if interval < minSE {
		return sessionTimer{}, errIntervalTooSmall
	}
	supports := false
	for _, s := range append(req.GetHeaders("Supported"), req.GetHeaders("k")...) {
		for _, tag := range strings.Split(s.Value(), ",") {
			if strings.EqualFold(strings.TrimSpace(tag), "timer") {
				supports = true
			}
		}
	}
	refresher := ""
	for _, p := range strings.Split(params, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "refresher") {
			refresher = strings.ToLower(strings.TrimSpace(v))
		}
	}
	if refresher != "uac" && refresher != "uas" {
		refresher = "uas"
		if supports {
			refresher = "uac"
		}
	}
	if refresher == "uac" && !supports {
		refresher = "uas" // a UAC that does not support timer cannot be told to refresh
	}
	return sessionTimer{interval: interval, weRefresh: refresher == "uas", required: supports}, nil
}

// headers are the session-timer headers of the 2xx that accepts the timer.
func (t sessionTimer) headers() []sip.Header {
	if t.interval == 0 {
		return nil
	}
	refresher := "uac"
	if t.weRefresh {
		refresher = "uas"
	}
	hs := []sip.Header{
		sip.NewHeader("Session-Expires", strconv.Itoa(int(t.interval/time.Second))+";refresher="+refresher),
		sip.NewHeader("Supported", "timer"),
	}
	if t.required {
		hs = append(hs, sip.NewHeader("Require", "timer"))
	}
	return hs
}

// refreshed restarts the session timer from now with t (a new negotiation).
func (c *call) refreshed(t sessionTimer, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timer = t
	c.timerFrom = now
}

// checkSessionTimer runs each second: the refresher's side sends an UPDATE at half the
// interval; the other side ends the session with a BYE when no refresh came by the interval
// less min(32 s, interval/3) (RFC 4028 section 10).
func (c *call) checkSessionTimer(now time.Time) {
	c.mu.Lock()
	t, from, refreshing := c.timer, c.timerFrom, c.refreshing
	if t.interval > 0 && t.weRefresh && !refreshing && now.Sub(from) >= t.interval/2 {
		c.refreshing = true
		refreshing = true
		go c.refresh()
	}
	c.mu.Unlock()
	if t.interval == 0 || t.weRefresh || refreshing {
		return
	}
	if now.Sub(from) >= t.interval-min(32*time.Second, t.interval/3) {
		c.log.Info("session expired: no refresh", "interval", t.interval)
		go c.hangup(c.s.ctx, "session expired")
	}
}

// refresh sends a session refresh: an UPDATE without a body (RFC 4028 section 7.4). A refresh
// that fails with 481 or 408, or is not answered, ends the call (section 10).
func (c *call) refresh() {
	defer func() {
		c.mu.Lock()
		c.refreshing = false
		c.mu.Unlock()
	}()
	if c.dlgS == nil {
		return
	}
	c.mu.Lock()
	t := c.timer
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(c.s.ctx, 64*c.s.cfg.t1)
	defer cancel()
	req, err := c.newInDialogRequest(sip.UPDATE)
	if err != nil {
		return
	}
	req.AppendHeader(sip.NewHeader("Session-Expires", strconv.Itoa(int(t.interval/time.Second))+";refresher=uas"))
	req.AppendHeader(sip.NewHeader("Supported", "timer"))
	res, err := c.doInDialog(ctx, req)
	if err != nil || res.StatusCode == 481 || res.StatusCode == 408 {
		c.log.Info("session refresh failed", "err", err)
		go c.hangup(c.s.ctx, "session refresh failed")
		return
	}
	c.refreshed(t, time.Now())
}
