package sipua

import "github.com/emiago/sipgo/sip"

// knownMethods are the request methods RFC 3261 and its extensions define: INVITE, ACK,
// CANCEL, BYE, OPTIONS and REGISTER (RFC 3261), PRACK (RFC 3262), SUBSCRIBE and NOTIFY (RFC
// 6665), REFER (RFC 3515), MESSAGE (RFC 3428), UPDATE (RFC 3311), PUBLISH (RFC 3903) and
// INFO (RFC 6086). Method names are case-sensitive (RFC 3261 section 7.1).
var knownMethods = map[sip.RequestMethod]bool{
	sip.INVITE: true, sip.ACK: true, sip.CANCEL: true, sip.BYE: true, sip.OPTIONS: true,
	sip.REGISTER: true, sip.PRACK: true, sip.SUBSCRIBE: true, sip.NOTIFY: true, sip.REFER: true,
	sip.MESSAGE: true, sip.UPDATE: true, sip.PUBLISH: true, sip.INFO: true,
}

// MethodRefusal is the answer to a request whose method a leg does not serve (RFC 3261
// section 8.2.1): 405 Method Not Allowed for a method confd knows (section 21.4.6), 501 Not
// Implemented for one it does not recognise (section 21.5.2). Both carry allow, the leg's
// Allow header (section 20.5), so that the caller learns what it may send.
func MethodRefusal(method sip.RequestMethod, allow string) *Refusal {
	r := &Refusal{Status: 501, Reason: "Not Implemented", Headers: []sip.Header{sip.NewHeader("Allow", allow)}}
	if knownMethods[method] {
		r.Status, r.Reason = 405, "Method Not Allowed"
	}
	return r
}
