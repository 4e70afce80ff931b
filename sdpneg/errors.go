package sdpneg

import "errors"

var (
	// ErrMalformed is returned when an SDP body is empty or breaks the RFC 4566 grammar as
	// pion/sdp reads it (line order, v=0, a port out of range). Unreadable attributes (rtpmap,
	// fmtp, ptime, rtcp) are skipped instead, as RFC 4566 section 5.13 asks of unknown ones. A
	// SIP request carrying it deserves 400 Bad Request.
	ErrMalformed = errors.New("sdpneg: malformed SDP")
	// ErrNoAudio is returned when an offer has no audio m-line with a non-zero port (RFC 3264
	// section 5.1): nothing for a conference bridge to answer.
	ErrNoAudio = errors.New("sdpneg: no audio stream")
	// ErrNoCommonCodec is returned when no codec of an audio m-line is among the supported ones
	// (RFC 3264 section 6: the answerer rejects a stream it shares no format with).
	ErrNoCommonCodec = errors.New("sdpneg: no common codec")
	// ErrSecureProfile is returned when the only audio is RTP/SAVP or RTP/SAVPF keyed by SDES
	// (RFC 4568) or MIKEY: confd does not do SDES-SRTP.
	ErrSecureProfile = errors.New("sdpneg: SRTP without DTLS (SDES) is not supported")
	// ErrUnsupportedProfile is returned when the only audio uses a transport other than
	// RTP/AVP or RTP/AVPF (RFC 3551, RFC 4585), such as TCP/RTP/AVP.
	ErrUnsupportedProfile = errors.New("sdpneg: unsupported transport profile")
	// ErrWebRTCOffer is returned, instead of an answer, for an offer whose audio uses DTLS-SRTP
	// (UDP/TLS/RTP/SAVPF, RFC 5764 and RFC 8829, and the other profiles of Audio.WebRTC's one
	// rule): a WebRTC peer that the WebRTC stack answers. It is not a rejection.
	ErrWebRTCOffer = errors.New("sdpneg: WebRTC (DTLS-SRTP) offer")
	// ErrAddress is returned when the chosen audio m-line has no usable connection address:
	// no c= line at media or session level (RFC 4566 section 5.7), or a host name, which
	// sdpneg does not resolve.
	ErrAddress = errors.New("sdpneg: no usable connection address")
	// ErrAnswerMismatch is returned by ParseAnswer when an answer does not match its offer: a
	// different m-line count or media type at some position (RFC 3264 section 6).
	ErrAnswerMismatch = errors.New("sdpneg: answer does not match the offer")
	// ErrRejected is returned by ParseAnswer when the answerer rejected the audio stream with
	// port 0 (RFC 3264 section 6).
	ErrRejected = errors.New("sdpneg: audio stream rejected by the answerer")
	// ErrNotOffered is returned by ParseAnswer when the answer's audio lists only codecs that
	// were not offered (RFC 3264 section 6.1 forbids that).
	ErrNotOffered = errors.New("sdpneg: answer picked a codec that was not offered")
	// ErrNoOffer is returned by Session.ParseAnswer when no offer of the session awaits an answer.
	ErrNoOffer = errors.New("sdpneg: no offer awaits an answer")
	// ErrLocal is returned when a Local is not usable: no address, a port outside 1-65535, an
	// unknown codec or direction, a bad packet time.
	ErrLocal = errors.New("sdpneg: bad local settings")
)
