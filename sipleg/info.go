package sipleg

import (
	"errors"
	"mime"
	"strings"
)

var (
	errInfoType  = errors.New("unsupported INFO body type")
	errInfoDigit = errors.New("no DTMF digit in INFO body")
)

// parseInfoDTMF reads one DTMF digit from a SIP INFO body: "application/dtmf-relay"
// ("Signal=5\r\nDuration=160", the de-facto format of Cisco and most PBXs) or
// "application/dtmf" (the bare digit). An INFO without a body is a keep-alive and yields 0.
// Digits are 0-9, *, #, A-D; "10" and "11" are the numeric spellings of * and # in
// dtmf-relay (RFC 4733 event codes).
func parseInfoDTMF(contentType string, body []byte) (byte, error) {
	if len(body) == 0 {
		return 0, nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, errInfoType
	}
	var v string
	switch mt {
	case "application/dtmf-relay":
		for _, line := range strings.Split(string(body), "\n") {
			k, val, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				v = strings.TrimSpace(val)
				break
			}
		}
	case "application/dtmf":
		v = strings.TrimSpace(string(body))
	default:
		return 0, errInfoType
	}
	switch v {
	case "10":
		return '*', nil
	case "11":
		return '#', nil
	}
	if len(v) == 1 {
		d := v[0]
		if d >= 'a' && d <= 'd' {
			d -= 'a' - 'A'
		}
		if (d >= '0' && d <= '9') || d == '*' || d == '#' || (d >= 'A' && d <= 'D') {
			return d, nil
		}
	}
	return 0, errInfoDigit
}
