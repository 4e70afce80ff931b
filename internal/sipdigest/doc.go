// Package sipdigest is SIP digest authentication on confd's side (RFC 3261 section 22.4, RFC
// 2617 with MD5 and qop=auth): the challenge of a 401 and the check of the Authorization that
// answers it, against config.Security.Users. A nonce is a timestamp signed with a per-process
// secret (HMAC-SHA-256), so no table of issued nonces is kept for clients that never come
// back; a nonce older than NonceLifetime is stale and challenged again with stale=true, which
// clients answer without asking their user (RFC 2617 section 3.2.1).
//
// The digest arithmetic is github.com/icholy/digest's.
package sipdigest
