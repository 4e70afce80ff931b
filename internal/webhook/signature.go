package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a webhook request (see the package documentation).
const (
	// HeaderSignature carries "sha256=" and the hex HMAC-SHA256 of timestamp "." body.
	HeaderSignature = "X-Confd-Signature"
	// HeaderTimestamp carries the Unix time in seconds at which the attempt was signed.
	HeaderTimestamp = "X-Confd-Timestamp"
	// HeaderEventID carries the event's id, for deduplication.
	HeaderEventID = "X-Confd-Event-Id"
	// HeaderEvent carries the event's type.
	HeaderEvent = "X-Confd-Event"
)

// DefaultTolerance is how old a signed timestamp Verify accepts when given no tolerance.
const DefaultTolerance = 5 * time.Minute

// Sign returns the value of the X-Confd-Signature header for body signed at ts: "sha256=" and the
// hex HMAC-SHA256 (RFC 2104) keyed with secret over the decimal Unix seconds of ts, ".", body.
func Sign(secret string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a received webhook request the way a receiver should: the signature header must
// match body under secret (compared in constant time), and the signed timestamp must be within
// tolerance of now (DefaultTolerance when tolerance is 0), so that a captured request cannot be
// replayed later. It returns ErrNoSignature, ErrBadSignature or ErrStale.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	sig, tsText := h.Get(HeaderSignature), h.Get(HeaderTimestamp)
	if sig == "" || tsText == "" {
		return ErrNoSignature
	}
	secs, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q", ErrBadSignature, tsText)
	}
	if !strings.HasPrefix(sig, "sha256=") {
		return fmt.Errorf("%w: unknown scheme", ErrBadSignature)
	}
	ts := time.Unix(secs, 0)
	want := Sign(secret, ts, body)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return ErrBadSignature
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if d := now.Sub(ts); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed %v ago", ErrStale, d.Round(time.Second))
	}
	return nil
}
