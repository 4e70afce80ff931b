// Package sipleg is confd's SIP side: the user agent server that callers dial into rooms, the
// client of dial-out and outbound registration, and the media socket of every SIP call. It
// speaks SIP (RFC 3261) over UDP and TCP through github.com/emiago/sipgo v1.7.2, negotiates
// audio with confd/sdpneg (RFC 3264), and joins each call to a confd/bridge room as
// a participant whose bridge.Leg is the call.
//
// # Calls in
//
// INVITE sip:ROOM@HOST → 100, then 200 with the SDP answer, then ACK. The answer picks the
// caller's first codec among Opus, PCMU, PCMA and G.722 (Config.Codecs; G.722 when the codec
// package has it), answers telephone-event (RFC 4733) at that codec's clock else 8000, rejects extra and non-audio m-lines with port 0 and reads a missing
// direction as sendrecv; when nothing is common the INVITE gets 488 with a Warning (RFC 3261
// section 20.43). An INVITE without SDP gets confd's offer in the 200 and must carry the
// answer in its ACK (late offer). A locked room answers 403, a full one 486, a bad room name
// 404, a draining server 503 with Retry-After. BYE ends a call either way; CANCEL is matched
// to its INVITE by sipgo's transaction layer; OPTIONS answers 200 with Allow and Accept.
//
// The call enters its room (or the IVR) only with the ACK of that 200 (for a late offer, the
// ACK's answer): before it confd sends no media and shows no participant, since the INVITE's
// source and SDP address may be spoofed. The 200 is retransmitted (T1 doubling up to T2)
// until the ACK; a 200 not ACKed by Timer H (64*T1, 32 s) ends the call without a BYE and
// frees its port. confd's To tag is random (a UUID from crypto/rand), so only a peer that saw
// the 200 can ACK it.
//
// Every in-dialog request (ACK, BYE, re-INVITE, UPDATE, INFO) must carry the dialog's Call-ID
// and both tags; otherwise it is answered 481 and changes nothing (RFC 3261 section 12.2.2).
// The source address is not compared: NAT may change it.
//
// A call on hold (sendonly or inactive) from which neither RTP nor RTCP came for
// Config.Limits.HoldTimeout (5 min) is ended with a BYE. RFC 4028 session timers are
// honoured when the caller asks (Session-Expires, Supported/Require: timer): a Session-Expires
// below Min-SE (Config.Limits.MinSessionExpires, 90 s) is answered 422 with Min-SE; the
// caller refreshes when it supports timer, else confd does by UPDATE at half the interval;
// a session whose refresh does not come is ended with a BYE (section 10).
//
// In the dialog, re-INVITE and UPDATE (RFC 3311) renegotiate: sendonly or inactive from the
// caller puts it on hold (answered recvonly/inactive: it is neither mixed, so its music on
// hold never reaches the room, nor sent audio), sendrecv takes it off hold, and a new codec or
// payload type changes the participant's media in place. A refused renegotiation (488)
// changes nothing. A re-INVITE without SDP gets an offer and its ACK the answer. The 2xx of a
// re-INVITE is retransmitted (T1 doubling up to T2) until its ACK, and a call whose 2xx is
// never acknowledged within 64*T1 is ended with a BYE (RFC 3261 section 13.3.1.4). sipleg
// retransmits the first INVITE's 2xx itself too: sipgo's loop restarts its 64*T1 timer at
// every retransmission and so never gives up.
//
// # Media
//
// A PortAllocator hands out an even RTP port with RTCP on the next (RFC 3550 section 11) from
// the -rtp range, picked at random, and takes it back when the call ends. A MediaSocket accepts
// media only from the address of the remote's SDP, or, when a NAT hides it, from a source it
// latches after LatchRun in-sequence packets of one SSRC in a negotiated payload type while the
// SDP address has sent nothing; it sends to that source (symmetric RTP, RFC 4961) and drops
// and counts packets from every other address (strict RTP, Asterisk's CVE-2017-14099 "RTP
// bleed"): a stranger who reaches the port before the caller gets nothing. rtcp-mux (RFC 5761) is honoured. Sends never block the room:
// they are sendto(2) with MSG_DONTWAIT on the socket's descriptor, and a full buffer is a
// dropped, counted packet (0 allocations, ≈9 µs per packet on loopback:
// BenchmarkMediaSocketSendRTP). In a room, the room's tick reads the RTP socket itself
// (MediaSocket.Poll: the reader goroutine hands it over, and recvmmsg(2) with SO_TIMESTAMPNS
// drains it every 20 ms under the same source rules), so no goroutine or thread wakes per
// packet. A call that sent no RTP for 30 s (Config.NoMediaTimeout) and
// is not on hold is hung up with a BYE. The call is a bridge.RTCPLeg: its room sends its RTCP
// reports (SR or RR and SDES, about every 5 s, randomised as RFC 3550 section 6.3.1 asks).
//
// # DTMF, PIN and dial-in numbers
//
// Digits arrive as RFC 4733 events or as SIP INFO with application/dtmf-relay or
// application/dtmf bodies (confd/dtmf.ParseInfo: 415 for another content type, 400
// for a body without a digit, 200 for a body-less keep-alive). In a room, the bridge's jitter
// buffer hands the events to its dtmf.Receiver; in the IVR, the call's media reader does, to
// a dtmf.Receiver of its own (one digit per event however many end packets repeat it, and a
// digit whose end packets were all lost still counts once). Digits become the participant's
// dtmf events, and "*6" toggles self-mute (bridge). A room with a PIN, even dialled directly, and
// a configured dial-in number (a request-URI user such as +15550100 or 1000, which takes
// precedence over a room of that name) lead to the IVR (ivr.go): spoken prompts from
// confd/prompts, the meeting number and then the PIN as digits ended by '#' (each entry a
// dtmf.Collector; digits typed during a prompt are kept), a digit timeout
// (Config.IVRDigitTimeout, 10 s) and three tries (Config.IVRTries), then "goodbye" and BYE.
// A dial-in number never leads to dial-out (ErrDialNumber).
//
// # Security and validation
//
// confd is open by default. With Config.Auth.Restrict, INVITEs are accepted only from
// the listed trunk addresses or with digest credentials of a listed user (401 challenge with
// SHA-256 and MD5, RFC 3261 section 22 and RFC 8760; confd/sipdigest: the uri must be
// the Request-URI and each nonce's count must grow, so a captured answer opens nothing else);
// with no user listed, 403. A new INVITE goes through the admission pipeline both SIP legs
// share (invite.go, confd/sipua.Gate): admit (draining, a cascade's node, the source's
// limits, credentials, the room), negotiate (dialog, media port, SDP), answer (the 200); the
// room is joined with the ACK.
//
// Each source address is admitted pike-style (admission.go, confd/internal/guard, the limits
// of Config.Limits, [security.sip] in the daemon; trunks exempt from the per-source ones): requests
// outside a dialog at RequestRate, checked on the socket before sipgo makes a transaction, and
// answered 503 with Retry-After statelessly beyond it, or not at all when the source is far
// over (the refusals are themselves rate-limited); new calls at InviteRate with at most
// CallsPerSource held (un-ACKed ones included) and MaxCalls in all, 503 with Retry-After
// beyond, its transaction ended at once so that no retransmission of the refusal outlives it.
// On SIP/TCP a message must be whole within TCPMessageTimeout (10 s), a connection without a
// message for TCPIdleTimeout (2 min) is closed, a message is at most 64 KiB, and a source may
// hold TCPConnsPerSource (8) connections.
//
// The IVR's meeting-number and PIN tries go through the shared guard.Attempts
// (Config.Attempts), keyed by source address (plus the From user for a trunk): a source past
// its allowance hears "goodbye" and is hung up before it can type, its PIN never compared.
//
// Every message passes a validator before sipgo sees it (validate.go), because sipgo v1.7.2
// accepts several of the RFC 4475 invalid messages as valid and drops unparsable ones without
// an answer. Its rules are the ones SIP over WebSocket applies too (confd/sipua): 400
// for unparsable requests, a CSeq method that differs from the request's, missing or doubled
// mandatory headers, a doubled Content-Length, escaped headers in the Request-URI, a bad Date;
// 416 for a Request-URI scheme other than sip: and sips:; 420 with Unsupported for Require tags
// other than timer; 415 with Accept for a non-SDP INVITE, UPDATE or ACK body; 406 for an INVITE
// whose Accept excludes SDP; 505 for a version other than SIP/2.0; an ACK is never answered. On
// TCP it frames messages itself (Content-Length is then mandatory: 400 without it) and unfolds
// continued header lines, which sipgo's stream parser does not. sipua holds the
// validator to every RFC 4475 message of sipgo's copy; TestTortureMessages here sends the
// ones the handlers answer, and one of each refusal, over UDP and TCP.
//
// # Calls out and registrations
//
// Server.DialOut(ctx, room, uri) takes a sip: or sips: URI (the one rule a transfer target
// follows too; a sips: one is called over TLS) and sends an INVITE offering Opus, PCMU, PCMA,
// G.722 and telephone-event, answers a 401/407 challenge only with a Config.Credentials entry of the
// challenge's realm whose host, when it names one, is the target's (else the dial fails with
// ErrNoCredential and nothing is sent), refuses destinations Config.DialOut.Allow does not list
// and dials past its rate before anything is sent, publishes "dial" events on the bus
// with each response's status and finally state "answered" or "failed", and joins the callee
// when it answers. Each Config.Register entry is kept registered (RFC 3261 section 10): digest
// authentication, refresh at three quarters of the granted expiry, back-off from 1 s to 5 min
// after a failure, and Expires: 0 at shutdown (Server.Registrations reports the state).
//
// # Drain and shutdown
//
// Drain refuses new calls (503 with Retry-After) and dial-outs; Shutdown(ctx) also sends BYE on
// every confirmed call, all at once (retransmitted by its client transaction until answered,
// for at most 2 s), ends un-ACKed calls without one, withdraws the registrations and stops
// serving: it returns at once even after a flood.
//
// # Traps handled
//
//   - sipgo refuses to write UDP messages over 1300 bytes, even responses that have no TCP
//     fallback; sipleg raises sip.UDPMTUSize so that a long valid INVITE is answered.
//   - sipgo answers a 2xx over UDP to the top Via's port at the source address (RFC 3261
//     section 18.2.2), not to the source port, unless the Via carries rport (RFC 3581).
//   - An RFC 2543 INVITE (no Contact, no From tag) gets its From as Contact and a From tag, so
//     that sipgo can build a dialog for it.
package sipleg
