package sipws

import (
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// onRegister answers a REGISTER (RFC 3261 section 10.3). confd keeps no location service: a
// browser's registration only says it is there, and calls reach it over the connection it
// registered on (RFC 7118 section 5). With users configured, the REGISTER is challenged (401,
// RFC 3261 section 22.4) and a connection that passed is trusted for its INVITEs.
func (c *conn) onRegister(req *sip.Request) {
	if r := c.overRate(); r != nil {
		c.respond(req, r.Status, r.Reason, r.Headers...) // and a password guesser's pace with it
		return
	}
	if auth := c.s.gate.Auth; auth.HasUsers() {
		if r := auth.Check(req); r != nil {
			c.s.stats.challenged.Add(1)
			c.respond(req, r.Status, r.Reason, r.Headers...)
			return
		}
		c.mu.Lock()
		c.authed = true
		c.mu.Unlock()
	}
	expires := c.s.cfg.maxExpires()
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
		if err != nil || n < 0 {
			c.respond(req, 400, "Bad Request (Expires is not a number of seconds)")
			return
		}
		expires = min(n, expires)
	}
	res := newResponse(req, 200, "OK")
	longest := 0
	for _, h := range req.GetHeaders("Contact") {
		ch, ok := h.(*sip.ContactHeader)
		if !ok {
			continue
		}
		if ch.Address.Wildcard {
			continue // "Contact: *" with Expires: 0 removes every binding: there is none to list
		}
		granted := expires
		if v, ok := ch.Params.Get("expires"); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				c.respond(req, 400, "Bad Request (Contact expires is not a number of seconds)")
				return
			}
			granted = min(n, c.s.cfg.maxExpires())
		}
		if granted == 0 {
			continue // removed
		}
		longest = max(longest, granted)
		out := ch.Clone()
		out.Params.Add("expires", strconv.Itoa(granted))
		res.AppendHeader(out)
	}
	// The connection is kept while the registration lasts, idle or not (RFC 5626 keep-alives
	// are optional; a registered phone may just wait for calls).
	// A REGISTER without Contact only asks for the bindings (RFC 3261 section 10.2.3).
	if len(req.GetHeaders("Contact")) > 0 {
		c.mu.Lock()
		c.regUntil = time.Now().Add(time.Duration(longest) * time.Second)
		c.mu.Unlock()
	}
	c.s.stats.registered.Add(1)
	c.sendMessage(res)
}
