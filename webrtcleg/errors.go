package webrtcleg

import "errors"

// Errors that Server.Answer returns. The WHIP/WHEP handler maps them to HTTP statuses (docs/SPEC.md
// "Errors"); the SIP-over-WebSocket side maps them to SIP responses (400 and 488 for the offer
// errors, the bridge's errors as sipleg maps them).
var (
	// ErrBadOffer is returned for an offer that is not a valid SDP offer (RFC 8866) or that
	// pion's JSEP implementation refuses (RFC 8829): HTTP 400, SIP 400.
	ErrBadOffer = errors.New("webrtcleg: malformed SDP offer")
	// ErrNoAudio is returned for an offer without a usable audio m-line (RFC 3264 section 6), or
	// whose audio direction leaves nothing to do (inactive, or a WHEP offer that only sends):
	// HTTP 400, SIP 488.
	ErrNoAudio = errors.New("webrtcleg: offer has no usable audio")
	// ErrNoOpus is returned for an audio offer without opus/48000/2 (RFC 7587 section 7), the
	// only codec WebRTC legs speak: HTTP 400, SIP 488.
	ErrNoOpus = errors.New("webrtcleg: offer has no opus/48000/2")
	// ErrNotWebRTC is returned for an offer that is not ICE with DTLS-SRTP (RFC 8827 section 6.5:
	// WebRTC media is always DTLS-SRTP): HTTP 400, SIP 488.
	ErrNotWebRTC = errors.New("webrtcleg: offer is not ICE with DTLS-SRTP")
	// ErrGathering is returned when ICE candidates could not be gathered before the deadline or
	// the caller's context ended (RFC 8445 section 5.1.1): HTTP 503, SIP 503.
	ErrGathering = errors.New("webrtcleg: ICE candidate gathering did not complete")
	// ErrClosed is returned by a Server that has been closed: HTTP 503, SIP 503.
	ErrClosed = errors.New("webrtcleg: server closed")
	// ErrNoResource is returned for a WHIP/WHEP resource URL that names no call (RFC 9725
	// section 4.3): HTTP 404.
	ErrNoResource = errors.New("webrtcleg: no such WHIP/WHEP resource")
)
