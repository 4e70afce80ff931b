// Package sipua holds what confd's two SIP user agents share, so that a phone on UDP or TCP
// (confd/sipleg) and a browser over WebSocket (confd/sipws) are held to the same rules and
// told the same things:
//
//   - Validator: the RFC 3261 checks a UAS makes before it looks at a request and that
//     sipgo's parser does not (RFC 3261 section 8.2, the torture tests of RFC 4475); one set
//     of rules for both legs, which differ only in the Require option tags they implement.
//   - TextResponse: the stateless answer to a request that did not parse or failed those
//     checks, written from its raw text (RFC 3261 section 8.2.6.2).
//   - Auth: digest authentication (confd/sipdigest) and trusted trunk addresses:
//     who may call in (RFC 3261 section 22).
//   - Gate: the admit step of the admission pipeline every new call goes through in both
//     legs — admit (draining, credentials, the room: bridge.Admit) → negotiate (the leg's
//     media answer) → join (the room) → answer (the 2xx) — and Refusal, the final answer of
//     a step that says no, with bridge errors mapped through bridge.StatusOf.
//   - Response and Reason: every answer a leg builds from a request, its reason phrase one
//     line of printable text whatever error text went into it.
//   - MethodRefusal: 405 for a method SIP defines that a leg does not serve, 501 for one it
//     does not know (RFC 3261 section 21.5.2).
//   - InfoDigit: the DTMF digit of a SIP INFO (application/dtmf-relay, application/dtmf) and
//     the answer to one that has none.
//
// sipua imports sipgo's message types and confd/bridge, nothing of the legs or the daemon.
package sipua
