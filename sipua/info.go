package sipua

import (
	"errors"

	"github.com/emiago/sipgo/sip"

	"confd/dtmf"
)

// InfoDigit reads the DTMF digit of a SIP INFO body (application/dtmf-relay or
// application/dtmf, dtmf.ParseInfo) for both SIP legs. A nil Refusal means the INFO is
// answered 200: with the digit, or digit 0 for an INFO without a body (a keep-alive or
// another package's, RFC 6086 section 4.2). Otherwise it is 415 with Accept for another
// content type (RFC 3261 section 21.4.13) or 400 for a body that names no digit.
func InfoDigit(contentType string, body []byte) (dtmf.Digit, *Refusal) {
	if len(body) == 0 {
		return 0, nil
	}
	d, _, err := dtmf.ParseInfo(contentType, body)
	switch {
	case err == nil:
		return d, nil
	case errors.Is(err, dtmf.ErrContentType):
		return 0, &Refusal{Status: 415, Reason: "Unsupported Media Type",
			Headers: []sip.Header{sip.NewHeader("Accept", dtmf.ContentTypeDTMFRelay+", "+dtmf.ContentTypeDTMF)}}
	}
	return 0, &Refusal{Status: 400, Reason: "Bad Request (" + err.Error() + ")"}
}
