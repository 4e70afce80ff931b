package sipleg

import (
	"errors"

	"confd/dtmf"
)

// infoDigit reads the DTMF digit of a SIP INFO body with dtmf.ParseInfo and says how to answer
// it: 200 with the digit (0 for an INFO without a body, a keep-alive or another package's,
// RFC 6086), 415 for a content type other than application/dtmf-relay or application/dtmf,
// 400 for a body that names no digit.
func infoDigit(contentType string, body []byte) (digit dtmf.Digit, status int, reason string) {
	if len(body) == 0 {
		return 0, 200, "OK"
	}
	d, _, err := dtmf.ParseInfo(contentType, body)
	switch {
	case err == nil:
		return d, 200, "OK"
	case errors.Is(err, dtmf.ErrContentType):
		return 0, 415, "Unsupported Media Type"
	}
	return 0, 400, "Bad Request (" + err.Error() + ")"
}
