package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a webhook request, those of the Standard Webhooks specification
// (https://www.standardwebhooks.com, "Signature scheme"), so that a receiver can use a stock
// verifier, and the event's type.
const (
	// HeaderID carries the event's id (a ULID, the JSON "id"): the same on every retry of one
	// event, unique across events, restarts and nodes, for deduplication.
	HeaderID = "webhook-id"
	// HeaderTimestamp carries the Unix time in seconds at which the attempt was signed.
	HeaderTimestamp = "webhook-timestamp"
	// HeaderSignature carries space-separated signatures, each "v1," and the base64 (RFC 4648
	// section 4) HMAC-SHA256 of id "." timestamp "." body.
	HeaderSignature = "webhook-signature"
	// HeaderEvent carries the event's type, so that a receiver can route before parsing.
	HeaderEvent = "X-Confd-Event"
)

// SecretPrefix starts a secret in the Standard Webhooks form: "whsec_" and the base64 of the
// key's bytes (24 to 64 of them, as the specification asks).
const SecretPrefix = "whsec_"

// DefaultTolerance is how old a signed timestamp Verify accepts when given no tolerance (the
// specification's example value).
const DefaultTolerance = 5 * time.Minute

// Key returns the HMAC key of secret: for "whsec_BASE64" the decoded bytes, as every Standard
// Webhooks library reads such a secret; for any other secret (a plain one, as confd took before)
// its own bytes, which a stock verifier is given as "whsec_" + base64(secret). It returns
// ErrBadConfig for a whsec_ secret that is not base64 or shorter than 24 bytes.
func Key(secret string) ([]byte, error) {
	enc, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return []byte(secret), nil
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("%w: secret after %q is not base64: %v", ErrBadConfig, SecretPrefix, err)
	}
	if len(key) < 24 {
		return nil, fmt.Errorf("%w: secret %s… has %d bytes, want at least 24", ErrBadConfig, SecretPrefix, len(key))
	}
	return key, nil
}

// Sign returns the value of the webhook-signature header for the message id with body, signed
// at ts with key (see Key): "v1," and the base64 HMAC-SHA256 (RFC 2104) of id "." decimal Unix
// seconds "." body.
func Sign(key []byte, id string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, ts.Unix(), 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Verify checks a received webhook request the way a receiver should: one of the "v1,"
// signatures in the signature header must match id, timestamp and body under secret (compared
// in constant time), and the signed timestamp must be within tolerance of now (DefaultTolerance
// when tolerance is 0), so that a captured request cannot be replayed later. It returns
// ErrNoSignature, ErrBadSignature or ErrStale.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, sigs, tsText := h.Get(HeaderID), h.Get(HeaderSignature), h.Get(HeaderTimestamp)
	if id == "" || sigs == "" || tsText == "" {
		return ErrNoSignature
	}
	secs, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q", ErrBadSignature, tsText)
	}
	key, err := Key(secret)
	if err != nil {
		return err
	}
	ts := time.Unix(secs, 0)
	want := []byte(Sign(key, id, ts, body))
	match := false
	for sig := range strings.FieldsSeq(sigs) {
		match = match || hmac.Equal([]byte(sig), want)
	}
	if !match {
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
