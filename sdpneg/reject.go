package sdpneg

import (
	"errors"
	"strings"
)

// Rejection is how a SIP user agent refuses an offer that failed to negotiate: a status code
// and reason phrase (RFC 3261 section 21) and a Warning header code and text (RFC 3261
// section 20.43), e.g. "488 Not Acceptable Here" with "Warning: 305 confd \"no common codec:
// offered G729/8000\"".
type Rejection struct {
	// Status is the SIP status code: 488, or 400 for a malformed body, or 500 for bad local
	// settings.
	Status int
	// Reason is the standard reason phrase of Status.
	Reason string
	// Warning is the RFC 3261 warning code (301, 302, 304 or 305), 0 when none fits.
	Warning int
	// Text is the error's explanation for the Warning header or a log line.
	Text string
}

// RejectionFor maps a negotiation error to a Rejection. It returns false for nil, for
// ErrWebRTCOffer (not a rejection: hand the offer to the WebRTC stack) and for errors that are
// not this package's.
func RejectionFor(err error) (Rejection, bool) {
	if err == nil || errors.Is(err, ErrWebRTCOffer) {
		return Rejection{}, false
	}
	text := strings.TrimPrefix(err.Error(), "sdpneg: ")
	r := Rejection{Status: 488, Reason: "Not Acceptable Here", Text: text}
	switch {
	case errors.Is(err, ErrMalformed):
		r.Status, r.Reason = 400, "Bad Request"
	case errors.Is(err, ErrLocal):
		r.Status, r.Reason = 500, "Server Internal Error"
	case errors.Is(err, ErrNoAudio):
		r.Warning = 304 // media type not available
	case errors.Is(err, ErrNoCommonCodec), errors.Is(err, ErrNotOffered), errors.Is(err, ErrRejected):
		r.Warning = 305 // incompatible media format
	case errors.Is(err, ErrSecureProfile), errors.Is(err, ErrUnsupportedProfile):
		r.Warning = 302 // incompatible transport protocol
	case errors.Is(err, ErrAddress):
		r.Warning = 301 // incompatible network address formats
	case errors.Is(err, ErrAnswerMismatch):
		r.Warning = 0
	default:
		return Rejection{}, false
	}
	return r, true
}
