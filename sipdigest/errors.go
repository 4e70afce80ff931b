package sipdigest

import "errors"

var (
	// ErrNoCredentials is returned by Check for a request without digest credentials: answer
	// 401 with a challenge (RFC 3261 section 22.1).
	ErrNoCredentials = errors.New("sipdigest: no digest credentials")
	// ErrStale is returned by Check for credentials over a nonce confd issued that has
	// expired: answer 401 with a challenge marked stale (RFC 2617 section 3.2.1).
	ErrStale = errors.New("sipdigest: stale nonce")
	// ErrRejected is returned by Check for credentials that are wrong: another realm, a uri
	// that is not the Request-URI, a nonce confd did not issue, no qop=auth, an algorithm not
	// offered, an unknown user or a wrong response. Answer 401 with new challenges (RFC 3261
	// section 22.4).
	ErrRejected = errors.New("sipdigest: credentials rejected")
	// ErrReplayed is returned by Check for right credentials whose nonce count was already
	// used with that nonce (RFC 2617 section 3.2.2.1): a captured Authorization sent again.
	// Answer 401 with new challenges.
	ErrReplayed = errors.New("sipdigest: nonce count replayed")
)
