package dtmf

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The SIP INFO content types that carry DTMF.
const (
	// ContentTypeDTMFRelay is the de facto "Signal=5\r\nDuration=160" body of Cisco and most
	// phones (no RFC; Duration in milliseconds).
	ContentTypeDTMFRelay = "application/dtmf-relay"
	// ContentTypeDTMF is a body of a single key character.
	ContentTypeDTMF = "application/dtmf"
)

// maxInfoBody bounds what ParseInfo reads: a DTMF body is a few dozen bytes.
const maxInfoBody = 1024

// ParseInfo reads a SIP INFO body of content type application/dtmf-relay or application/dtmf
// (parameters and case ignored) and returns the key and, when the body gives one, the
// duration (0 otherwise).
//
// application/dtmf-relay is read leniently: lines of "Key=Value" in any case with blanks
// anywhere, CRLF or LF; "Signal" is a key character, or a number 0-15 (some phones send 10
// and 11 for * and #); "Duration" is milliseconds; other keys are ignored. application/dtmf is
// one key character (or such a number), blanks around it ignored.
//
// It returns ErrContentType for any other content type (SIP 415) and ErrInfoBody for a body it
// cannot read (SIP 400). An INFO with no body at all is a keep-alive or another package's
// (RFC 6086), not DTMF: the caller answers it 200 without calling ParseInfo.
func ParseInfo(contentType string, body []byte) (Digit, time.Duration, error) {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt != ContentTypeDTMFRelay && mt != ContentTypeDTMF {
		return 0, 0, fmt.Errorf("%w: %q", ErrContentType, contentType)
	}
	if len(body) > maxInfoBody {
		return 0, 0, fmt.Errorf("%w: %d bytes", ErrInfoBody, len(body))
	}
	if mt == ContentTypeDTMF {
		d, err := signal(strings.TrimSpace(string(body)))
		return d, 0, err
	}
	var (
		digit    Digit
		duration time.Duration
		seen     bool
	)
	for line := range strings.SplitSeq(string(body), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return 0, 0, fmt.Errorf("%w: line %q has no '='", ErrInfoBody, line)
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		switch k {
		case "signal":
			d, err := signal(v)
			if err != nil {
				return 0, 0, err
			}
			digit, seen = d, true
		case "duration":
			ms, err := strconv.Atoi(v)
			if err != nil || ms < 0 || ms > 60000 {
				return 0, 0, fmt.Errorf("%w: duration %q", ErrInfoBody, v)
			}
			duration = time.Duration(ms) * time.Millisecond
		}
	}
	if !seen {
		return 0, 0, fmt.Errorf("%w: no Signal", ErrInfoBody)
	}
	return digit, duration, nil
}

// signal reads a key character or an event number 0-15.
func signal(v string) (Digit, error) {
	if len(v) == 1 {
		if d, err := ParseDigit(v[0]); err == nil {
			return d, nil
		}
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= 15 {
		d, _ := DigitForEvent(uint8(n))
		return d, nil
	}
	return 0, fmt.Errorf("%w: signal %q is not a DTMF key", ErrInfoBody, v)
}

// FormatDTMFRelay writes an application/dtmf-relay body for digit: "Signal=5\r\nDuration=160\r\n",
// the duration in whole milliseconds (left out when zero).
func FormatDTMFRelay(digit Digit, duration time.Duration) ([]byte, error) {
	if !digit.Valid() {
		return nil, fmt.Errorf("%w: %q", ErrNotDigit, byte(digit))
	}
	b := []byte("Signal=" + digit.String() + "\r\n")
	if duration > 0 {
		b = append(b, "Duration="+strconv.Itoa(int(duration/time.Millisecond))+"\r\n"...)
	}
	return b, nil
}
