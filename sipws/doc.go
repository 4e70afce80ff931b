// Package sipws is confd's SIP over WebSocket side (RFC 7118): a small SIP user agent server
// for SIP.js and JsSIP browsers, mounted by the daemon as an http.Handler at /sip on -http
// (ws:// or wss://). A browser INVITEs sip:ROOM@HOST with a WebRTC offer (ICE, DTLS-SRTP,
// Opus); confd answers it through webrtcleg, which joins the participant to the bridge room.
//
// # Transport
//
// The upgrade (github.com/gobwas/ws on net/http) requires the "sip" subprotocol (RFC 7118
// section 4): a handshake without it gets HTTP 400. Each text or binary WebSocket message
// holds one SIP message (RFC 7118 section 5); confd writes text messages. WebSocket is a
// reliable transport, so no retransmission timers run (RFC 3261 section 17: Timers A, E and
// G are for unreliable transports). Browsers put random *.invalid hosts in Via and Contact:
// every response and every in-dialog request, confd's BYE included, goes back over the
// connection the dialog came on and nothing is ever resolved. A connection ends its calls
// when it closes. A double-CRLF keep-alive gets a CRLF (RFC 5626 section 4.4.1).
//
// On a public address the upgrade is guarded (Config; [security.websocket] in the daemon): a
// browser page on a foreign origin is refused with 403 (RFC 6455 section 10.2: cross-site
// WebSocket hijacking; same origin is the Host, whatever the scheme, or AllowedOrigins; no
// Origin, i.e. not a browser, is allowed); a source past its upgrade rate (Config.UpgradeRate)
// or ConnsPerSource connections gets 429, everyone past MaxConns 503, with Retry-After and
// nothing upgraded (confd/internal/guard.Admission; trunks are exempt from the per-source
// limits). A connection that sends nothing for IdleTimeout (2 min) is closed (status 1000)
// unless it holds a call (a browser in a call sends nothing) or a registration that has not
// expired; a CRLF keep-alive or a WebSocket ping counts as activity. A message must complete
// within MessageTimeout (10 s) of its first byte, else the connection is closed (1008). A
// source's connections together may send Config.MessageRate messages a second (50, bursts of
// 500), else the one that goes over is closed (1008).
//
// Each connection has one goroutine that reads it; writes are serialised and bounded by
// Config.WriteTimeout. A message over Config.MaxMessageSize (64 KiB) closes the connection
// (status 1009); a malformed message is answered 400 with a reason (a malformed response, an
// ACK and a message without a Via are dropped) and the connection goes on, unless more than
// Config.MaxBadMessages come in a row (status 1008). Requests are checked by the rules both
// SIP legs share (confd/sipua.Validator) for what sipgo's parser lets through: the
// version (505), the mandatory headers, doubled headers, the CSeq method and a malformed Date
// (400), a URI scheme other than sip: and sips: (416), any Require tag (420: sipws implements
// none), an INVITE, UPDATE or ACK body that is not SDP (415) and an INVITE whose Accept
// excludes SDP (406). An INVITE then goes through the admission pipeline sipleg shares
// (sipua.Gate: draining, credentials, the room).
//
// # Methods
//
//   - REGISTER: 200 echoing each Contact with its granted expires (at most Config.MaxExpires);
//     there is no location service beyond the connection. With Config.Auth.Users, a 401
//     digest challenge first (confd/sipdigest: RFC 3261 section 22.4, SHA-256 and MD5, qop=auth,
//     realm Config.Auth.Realm or "confd", stale=true for an expired nonce); a connection that registered is trusted for its
//     INVITEs when Config.Auth.Restrict is set (otherwise an INVITE must carry
//     credentials itself, or come from a Config.Auth.Trunks address).
//   - INVITE sip:ROOM@HOST with a WebRTC offer: 100 Trying, then webrtcleg.Server.Answer
//     on the call's goroutine (so that CANCEL is read meanwhile), then 200 with the answer SDP
//     and Contact <sip:ROOM@HOST;transport=ws>, then the browser's ACK (a 200 never
//     acknowledged within Config.AckTimeout ends the call with a BYE). Refusals: a bad room
//     name 404, a locked room 403, a full one 486, draining 503 with Retry-After, a malformed
//     offer 400, an offer that is not WebRTC, has no audio or no Opus 488 with a Warning, an
//     INVITE without SDP 488 "offer required" (no late offer over WebRTC), a connection that
//     already has Config.MaxCalls calls 486.
//   - Room PIN: the WebRTC path joins at once and cannot play a DTMF prompt first, so the PIN
//     comes with the INVITE, as a pin URI parameter (sip:ROOM@HOST;pin=1234) or an
//     X-Confd-PIN header; without it 403 "PIN required", a wrong one 403 "wrong PIN". Every
//     try goes through Config.Attempts (confd/internal/guard: failures per source and per
//     room, a doubling delay, then a lock-out, shared with the IVR, WHIP and WHEP); a try it
//     refuses gets 403 "too many PIN attempts" with Retry-After and the PIN is not looked at.
//     The offer is checked first (webrtcleg.CheckOffer), so that a bad offer gets the same
//     answer with a right PIN as with a wrong one.
//   - Per source, dialog-creating INVITEs and REGISTERs pass at Config.RequestRate (5 a
//     second, bursts of 20) over all its connections; beyond it 503 with Retry-After, before
//     anything else (so a digest password guesser is paced too).
//   - The 200 OK carries X-Confd-Room-Token from Config.RoomToken: the page's read-only
//     capability for its room's roster and events in the API.
//   - CANCEL before the 200: 200 for the CANCEL and 487 for the INVITE (RFC 3261 section 9.2).
//   - BYE from the browser: 200 and the WebRTC leg closes. When the leg ends on confd's side
//     (kicked through the API, ICE or DTLS failed), confd sends BYE in the dialog.
//   - INFO with application/dtmf-relay or application/dtmf (confd/dtmf.ParseInfo):
//     the digit goes to the participant (a dtmf event on the bus, "*6" toggles self-mute);
//     415 for another content type, 400 for a body without a digit, 200 for an empty INFO.
//   - OPTIONS: 200 with Allow and Accept. A re-INVITE: 488 (the call goes on unchanged).
//     Other methods: 405 with Allow for those SIP defines, 501 for the rest; an in-dialog
//     request that matches no dialog: 481.
//
// Signalling is per call, not per packet, so it allocates freely: about 25 µs and 110
// allocations per request answered (parse, a round-trip check, the answer written), about 6 µs
// per malformed message (BenchmarkHandle, 2-vCPU machine).
//
// Route sets are not kept: browsers talk to confd directly over the WebSocket, and confd's
// BYE goes to the browser's Contact over that same connection.
//
// # Drain and shutdown
//
// Drain makes new INVITEs get 503 with Retry-After while calls go on; Shutdown sends BYE on
// every call, closes every connection (status 1001) and waits for their goroutines.
package sipws
