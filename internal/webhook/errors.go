package webhook

import "errors"

var (
	// ErrBadConfig is returned by New for a webhook whose URL is not an absolute http(s) URL,
	// whose event filter names an event type the bridge does not publish, or whose limits are
	// negative.
	ErrBadConfig = errors.New("webhook: bad configuration")
	// ErrNoSignature is returned by Verify when the request carries no signature or timestamp.
	ErrNoSignature = errors.New("webhook: no signature")
	// ErrBadSignature is returned by Verify when the signature does not match the body.
	ErrBadSignature = errors.New("webhook: signature does not match")
	// ErrStale is returned by Verify when the signed timestamp is outside the tolerance (a
	// replayed request).
	ErrStale = errors.New("webhook: timestamp outside tolerance")
)
