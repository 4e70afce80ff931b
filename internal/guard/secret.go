package guard

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// BearerToken returns the bearer token of r's Authorization header (RFC 6750 section 2.1),
// trimmed, and whether r carries one. The scheme is matched in any case (RFC 9110 section
// 11.1). It is the one reading of a token for the API, metrics, WHIP/WHEP and the nodes' own
// endpoints.
func BearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// SecretMatches reports whether given is secret, in the same time whatever the two share
// (crypto/subtle), so that the time a refusal takes tells nothing of the secret. An empty
// secret matches nothing: a token or PIN that is not set lets no one in.
func SecretMatches(given, secret string) bool {
	return secret != "" && subtle.ConstantTimeCompare([]byte(given), []byte(secret)) == 1
}
