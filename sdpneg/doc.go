// Package sdpneg negotiates the audio of a SIP call by the SDP offer/answer model of RFC 3264,
// with SDP (RFC 4566) parsed and written by github.com/pion/sdp/v3.
//
// It answers offers (Answer, Session.Answer), makes offers for dial-out and for the late offer of
// an INVITE without SDP (Offer, Session.Offer), and checks the answer to such an offer
// (ParseAnswer, Session.ParseAnswer). Every call returns a Result: where to send RTP and RTCP,
// the codec and payload types, the telephone-event (RFC 4733) payload type and clock, the packet
// time, the direction of each side (hold), and the remote's Opus parameters (RFC 7587).
//
// Decisions, in one place:
//   - The offerer's codec order wins (RFC 3264 section 6.1): the answer picks the offer's first
//     codec among Local.Codecs and lists that codec alone (plus telephone-event), so both sides
//     know which codec flows and no mid-stream codec switch can surprise the mixer.
//   - telephone-event is answered at the chosen codec's clock, else at 8000 Hz. In the second
//     case a sender such as libwebrtc writes the events' timestamps on the audio's clock and
//     their durations on the events' (dtmf.ReceiverConfig.TimestampRate, which the receiving
//     side sets from the two clocks).
//   - Only the first acceptable audio m-line is used. Every other m-line (video, a second audio,
//     T.38 image, data) is answered with port 0 and its own format list (RFC 3264 section 6), so
//     no BUNDLE is needed and the answer always has the offer's m-line count and order.
//   - An m-line with no direction attribute (and none at session level) is sendrecv (RFC 3264
//     section 5.1). c=0.0.0.0 (the RFC 2543 hold of RFC 3264 section 8.4) means the remote
//     receives nothing. The answer's direction is the complement of the remote's, intersected
//     with Local.Direction, and is always written explicitly.
//   - Opus is answered with "useinbandfec=1; usedtx=1": confd decodes in-band FEC (the jitter
//     buffer recovers a lost packet from the next one) and treats DTX gaps as silence, and both
//     cut the bridge's receive cost. What confd sends honours the remote's own fmtp
//     (Result.SendFormat).
//   - RTP/AVP and RTP/AVPF are answered. RTP/SAVP(F) with SDES keys is refused (ErrSecureProfile);
//     a DTLS-SRTP profile such as UDP/TLS/RTP/SAVPF is a WebRTC offer, reported as
//     ErrWebRTCOffer so that the caller hands it to the WebRTC stack instead.
//   - rtcp-mux (RFC 5761) is accepted when offered and is offered, unless Local.NoRTCPMux.
//   - Within a dialog a Session keeps the o= session id, increments the version only when the
//     SDP changes (RFC 3264 section 8), keeps the m-line layout and keeps every payload type
//     number bound to the same codec (RFC 3264 section 8.3.2).
//
// ReadAudio reads the first usable audio m-line of a body as written, without negotiating:
// profile, whether it is WebRTC (by the same rule as ErrWebRTCOffer), direction, payload
// formats and header extensions. The WebRTC leg checks offers and reads pion's answers with it,
// so confd reads SDP in one place.
//
// Errors are sentinels (errors.go) that Rejection maps to a SIP status and Warning code.
//
// Nothing here owns a goroutine, does I/O or resolves names; negotiation is per call, not per
// packet, so it is written for clarity rather than to avoid allocations.
package sdpneg
