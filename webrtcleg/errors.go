package webrtcleg

import (
	"errors"

	"confd/bridge"
)

// Errors that Server.Answer returns. StatusOf gives each its HTTP status, which the WHIP/WHEP
// handler answers (docs/SPEC.md "Errors"), and its SIP response, which SIP over WebSocket
// answers.
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

// statuses are the answers to webrtcleg's own errors, beside the bridge's (bridge.StatusOf).
// The offer's errors carry their text in a SIP Warning (RFC 3261 section 20.43): 304 (media
// type not available) where the offer has nothing a WebRTC leg speaks.
var statuses = bridge.StatusTable{
	{Err: ErrBadOffer, Status: bridge.Status{SIP: 400, Reason: "Bad Request (malformed SDP offer)", HTTP: 400, Warning: 399}},
	{Err: ErrNotWebRTC, Status: bridge.Status{SIP: 488, Reason: "Not Acceptable Here", HTTP: 400, Warning: 304}},
	{Err: ErrNoAudio, Status: bridge.Status{SIP: 488, Reason: "Not Acceptable Here", HTTP: 400, Warning: 304}},
	{Err: ErrNoOpus, Status: bridge.Status{SIP: 488, Reason: "Not Acceptable Here", HTTP: 400, Warning: 304}},
	{Err: ErrGathering, Status: bridge.Status{SIP: 503, Reason: "Service Unavailable", HTTP: 503}},
	{Err: ErrClosed, Status: bridge.Status{SIP: 503, Reason: "Service Unavailable", HTTP: 503, RetryAfter: bridge.DrainingRetryAfter}},
	{Err: ErrNoResource, Status: bridge.Status{SIP: 481, Reason: "Call/Transaction Does Not Exist", HTTP: 404}},
}

// StatusOf is the answer to an error of Server.Answer or of the WHIP/WHEP handler: webrtcleg's
// own errors from its table, the bridge's errors and guard's refusals from bridge.StatusOf. ok
// is false for any other error (answer 500).
func StatusOf(err error) (st bridge.Status, ok bool) {
	if st, ok = statuses.Of(err); ok {
		return st, true
	}
	return bridge.StatusOf(err)
}
