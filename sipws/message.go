package sipws

import (
	"github.com/emiago/sipgo/sip"
)

// allowed is the Allow header of confd's answers (RFC 3261 section 20.5).
const allowed = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REGISTER"

// known are the methods RFC 3261 and its extensions define that confd does not implement: a
// request with one of them gets 405 with Allow, any other method 501 (RFC 3261 section 8.2.1).
var known = map[string]bool{"SUBSCRIBE": true, "NOTIFY": true, "REFER": true, "MESSAGE": true,
	"PRACK": true, "UPDATE": true, "PUBLISH": true}

// optionTags are the Require option tags sipws implements: none (no 100rel, no session
// timers); any other is answered 420 (sipua.Validator).
var optionTags []string

// newResponse builds the answer to req (RFC 3261 section 8.2.6) with confd's Server header.
func newResponse(req *sip.Request, status int, reason string, hdrs ...sip.Header) *sip.Response {
	res := sip.NewResponseFromRequest(req, status, reason, nil)
	res.SipVersion = "SIP/2.0" // not the request's: a 505 answers another version in confd's own
	for _, h := range hdrs {
		if h != nil {
			res.AppendHeader(h)
		}
	}
	if status == 405 || status == 501 {
		res.AppendHeader(sip.NewHeader("Allow", allowed))
	}
	res.AppendHeader(sip.NewHeader("Server", "confd"))
	return res
}
