// Package webrtcleg is confd's WebRTC side: one pion PeerConnection per browser participant,
// audio only, joined to a bridge room as a leg. It serves WHIP (RFC 9725) and WHEP, and answers
// the WebRTC offers that SIP over WebSocket (RFC 7118) brings.
//
// # Media
//
// Opus (RFC 7587) with in-band FEC and DTX (useinbandfec=1;usedtx=1 in the answer), the RFC 6464
// audio level header extension (its id goes to the bridge, so silent browsers are not decoded),
// and RFC 4733 telephone-event at 48000 and 8000 Hz. DTLS-SRTP only (RFC 8827); pion's ICE agent
// drops non-STUN packets from addresses that are not validated candidates (ice.Agent
// validateNonSTUNTraffic), so DTLS from an address ICE has not checked never reaches DTLS.
//
// The room's tick hands each leg a whole RTP packet written by the bridge; the leg's track puts
// pion's SSRC and payload type in it and writes it straight to pion's SRTP writer (see
// audioTrack), allocating nothing of its own. What the browser sends is read with one reused
// buffer per leg and pushed into the participant. pion runs no interceptors (its report
// interceptor allocates on every packet read): the bridge keeps the RFC 3550 statistics of both
// streams, and each Call sends the participant's sender or receiver report about once a second
// with pion's SSRC in place of the bridge's. The leg reads the browser's reports about confd's
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
// # Construction
//
// New(bridge, cfg) with cfg from FromConfig(config) (-public-ip, -rtp, ice_server, ice_lite,
// webrtc_udp_port); mount Handler at /whip/ and /whep/ on -http; Close ends every call.
//
// # WHIP and WHEP
//
// Server.Handler serves POST /whip/ROOM and POST /whep/ROOM (application/sdp offer → 201
// Created, Location /whip/ROOM/ID, the answer), DELETE on the Location, and CORS. A sendonly
// WHIP offer is answered recvonly (heard, hears nothing); a sendrecv one sendrecv (a full
// participant, a documented extension); a WHEP call hears the room's shared mix and is heard by
// no one. A room PIN is the bearer token. ?name= sets the display name. The statuses are listed
// on Handler.
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
//		// ErrBadOffer → 400; ErrNotWebRTC, ErrNoAudio, ErrNoOpus → 488;
//		// ErrGathering, ErrClosed, bridge.ErrDraining → 503; bridge.ErrRoomLocked → 403;
//		// bridge.ErrRoomFull → 486; bridge.ErrBadRoomName → 404.
//	}
//	// 200 OK with answer (application/sdp); then:
//	//   BYE from the browser           → call.Close()
//	//   <-call.Done() (not after Close) → send BYE; call.Reason() says why
//	//   INFO application/dtmf-relay    → call.DTMF(digit, time.Now())
//
// Answer joins the participant at once (the caller has checked the PIN). The Call's Done closes
// when the PeerConnection is gone for any reason: ICE or DTLS failure, a kick or drain from the
// API (bridge.Participant.Hangup), Server.Close. A re-INVITE with a new offer is not supported:
// answer it 488, or end the call and start a new one.
package webrtcleg
