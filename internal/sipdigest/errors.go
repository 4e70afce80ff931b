package sipdigest

import "errors"

var (
	// ErrNoCredentials is returned by Check for a request without digest credentials: answer
	// 401 with a challenge (RFC 3261 section 22.1).
	ErrNoCredentials = errors.New("sipdigest: no digest credentials")
	// ErrStale is returned by Check for credentials over a nonce confd issued that has
	// expired: answer 401 with a challenge marked stale (RFC 2617 section 3.2.1).
	ErrStale = errors.New("sipdigest: stale nonce")
	// ErrRejected is returned by Check for credentials that are wrong: another realm, a nonce
	// confd did not issue, an unknown user or a wrong response. Answer 401 with a new
	// challenge (RFC 3261 section 22.4).
	ErrRejected = errors.New("sipdigest: credentials rejected")
)
