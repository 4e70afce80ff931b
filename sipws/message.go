package sipws

import (
	"github.com/emiago/sipgo/sip"

	"confd/sipua"
)

// allowed is the Allow header of confd's answers (RFC 3261 section 20.5).
const allowed = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REGISTER"

// optionTags are the Require option tags sipws implements: none (no 100rel, no session
// timers); any other is answered 420 (sipua.Validator).
var optionTags []string

// newResponse builds the answer to req (sipua.Response: RFC 3261 section 8.2.6, the reason
// made printable, confd's Server header) in confd's SIP version.
func newResponse(req *sip.Request, status int, reason string, hdrs ...sip.Header) *sip.Response {
	res := sipua.Response(req, status, reason, hdrs...)
	res.SipVersion = "SIP/2.0" // not the request's: a 505 answers another version in confd's own
	return res
}
