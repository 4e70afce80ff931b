package dtmf

import "errors"

var (
	// ErrShortPayload is returned when a telephone-event payload is shorter than the 4 bytes
	// of RFC 4733 section 2.3.
	ErrShortPayload = errors.New("dtmf: telephone-event payload shorter than 4 bytes")
	// ErrShortBuffer is returned when a buffer is too small for a payload.
	ErrShortBuffer = errors.New("dtmf: buffer too short")
	// ErrNotDigit is returned for a character or event code that is not a DTMF digit
	// (0-9, *, #, A-D; RFC 4733 section 3.2).
	ErrNotDigit = errors.New("dtmf: not a DTMF digit")
	// ErrDuration is returned when a duration is not positive or does not fit the 16-bit
	// duration field of RFC 4733 section 2.3.5 at the given clock.
	ErrDuration = errors.New("dtmf: duration out of range")
	// ErrClockRate is returned for a telephone-event clock rate other than 8000, 16000 or 48000.
	ErrClockRate = errors.New("dtmf: unsupported clock rate")
	// ErrBusy is returned by Sender.Start while the previous digit is still being sent.
	ErrBusy = errors.New("dtmf: sender busy")
	// ErrContentType is returned by ParseInfo for a SIP INFO body that is neither
	// application/dtmf-relay nor application/dtmf: answer 415 Unsupported Media Type.
	ErrContentType = errors.New("dtmf: unsupported INFO content type")
	// ErrInfoBody is returned by ParseInfo for a body it cannot read: answer 400 Bad Request.
	ErrInfoBody = errors.New("dtmf: unreadable INFO body")
)
