// Package webrtcleg is confd's WebRTC side: one pion PeerConnection per browser participant,
// audio only, joined to a bridge room as a leg. It serves WHIP (RFC 9725) and WHEP, and answers
// the WebRTC offers that SIP over WebSocket (RFC 7118) brings.
//
// # Media
//
// Opus (RFC 7587) with in-band FEC and DTX (useinbandfec=1;usedtx=1 in the answer), the RFC 6464
// audio level header extension (its id goes to the bridge, so silent browsers are not decoded),
// and RFC 4733 telephone-event at 48000 and 8000 Hz. DTLS-SRTP only (RFC 8827), by sdpneg's one
// rule for it (sdpneg.Audio.WebRTC: UDP/TLS/RTP/SAVPF and the other profiles JSEP accepts with a
// fingerprint); sdpneg.ReadAudio reads the offer's audio before pion negotiates, and the answer's
// after. pion's ICE agent drops non-STUN packets from addresses that are not validated
// candidates (ice.Agent validateNonSTUNTraffic), so DTLS from an address ICE has not checked
// never reaches DTLS.
//
// The room writes the leg's RTP with the SSRC of pion's sender, the one the answer names (the
// leg hands it to the room as bridge.ParticipantInfo.Stream), so that nothing is translated on
// the way out or in. The room's tick hands each leg an RTP header; the leg's track puts pion's
// payload type in it and writes it straight to pion's SRTP writer (see audioTrack), allocating
// nothing of its own. What the browser sends is read with one reused
// buffer per leg and pushed into the participant. pion runs no interceptors (its report
// interceptor allocates on every packet read): the bridge keeps the RFC 3550 statistics of both
// streams, and the room sends each Call the participant's sender or receiver report when it is
// due (bridge.RTCPLeg: about every 5 s, randomised), marshalled, which the Call writes through
// SRTCP as it is. The leg reads the browser's reports about confd's
// stream and feeds their loss to the participant, which sets its Opus encoder's expected loss
// (and so FEC).
//
// # ICE
//
// Host candidates on every interface or on Config.ListenIPs, rewritten to Config.PublicIP when
// set (NAT 1:1); STUN and TURN servers from the configuration, also handed to WHIP and WHEP
// clients as Link headers (RFC 9725 section 4.6); ICE-lite as an option; every leg on one UDP
// port (Config.UDPPort) or each on its own port from Config.RTP. Answers carry every candidate:
// no trickle. A leg whose ICE or DTLS fails, or whose peer goes silent past the ICE failed
// timeout, or which is not connected within Config.ConnectTimeout, leaves its room and closes.
//
// An offer names the addresses a full ICE agent sends checks to (RFC 8445 section 6.1.4), so
// confd takes only Config.MaxCandidates of its candidates (UDP, component 1, an address that
// is not unspecified, multicast or broadcast, no host names: mDNS .local ones are learned as
// peer-reflexive from the browser's own checks) and as many peer-reflexive ones again; each
// pair is checked a bounded number of times. An ICE-lite confd sends no checks at all.
//
// # Public address
//
// A participant joins its room only once ICE and DTLS are up: an offer that never connects is
// never in a roster and is closed, with its sockets and goroutines, after ConnectTimeout.
// Config.SessionsPerSource and MaxSessions cap the calls (pending or connected) per source
// address and overall (guard.Admission), checked before a PeerConnection is made: a WHIP/WHEP
// POST beyond them gets 429 or 503 with Retry-After. Room PIN guesses go through a
// guard.Attempts shared with the other legs: a source that guessed too often gets 429 with
// Retry-After without its PIN being looked at, and the PIN's verdict is given only once the
// whole offer is valid, so a bad offer is answered alike with a right or a wrong PIN.
//
// # Construction
//
// New(bridge, cfg) with cfg translated by the daemon from its file (-public-ip, -rtp, ice_server, ice_lite,
// webrtc_udp_port, [security.webrtc]) and the shared Config.Attempts and Config.RoomToken hook;
// mount Handler at /whip/ and /whep/ on -http; Close ends every call.
//
// # WHIP and WHEP
//
// Server.Handler serves POST /whip/ROOM and POST /whep/ROOM (application/sdp offer → 201
// Created, Location /whip/ROOM/ID, the answer), DELETE on the Location, and CORS. A sendonly
// WHIP offer is answered recvonly (heard, hears nothing); a sendrecv one sendrecv (a full
// participant, a documented extension); a WHEP call hears the room's shared mix and is heard by
// no one. A room PIN is the bearer token. ?name= sets the display name. A 201 carries the
// room's read-only token as X-Confd-Room-Token when Config.RoomToken gives one (exposed to
// pages on other origins by CORS). The statuses are listed on Handler.
//
// # SIP over WebSocket
//
// The SIP side receives an INVITE whose SDP is a WebRTC offer (sdpneg returns
// sdpneg.ErrWebRTCOffer) and hands it here:
//
//	answer, call, err := webrtcSrv.Answer(ctx, room, offerSDP, webrtcleg.JoinInfo{
//		Name: displayName, From: fromURI, OnDigit: ivrDigits, // Kind "" means "sip"
//	})
//	if err != nil {
//		// st, _ := webrtcleg.StatusOf(err): st.SIP and st.Reason (ErrBadOffer 400;
//		// ErrNotWebRTC, ErrNoAudio, ErrNoOpus 488 with a Warning; ErrGathering, ErrClosed
//		// 503; the bridge's errors and, with JoinInfo.Remote set, the session caps' guard
//		// refusals as bridge.StatusOf answers them; sipua.RefusalFor builds the answer).
//	}
//	// 200 OK with answer (application/sdp); then:
//	//   BYE from the browser           → call.Close()
//	//   <-call.Done() (not after Close) → send BYE; call.Reason() says why
//	//   INFO application/dtmf-relay    → call.DTMF(digit, time.Now())
//
// The participant joins once ICE and DTLS are up (the caller has checked the PIN); a Join the
// bridge refuses then (the room filled or was locked meanwhile) ends the call. The Call's Done
// closes when the PeerConnection is gone for any reason: ICE or DTLS failure, the connect
// timeout, a kick or drain from the API (bridge.Participant.Hangup), Server.Close. A re-INVITE with a new offer is not supported:
// answer it 488, or end the call and start a new one.
package webrtcleg
