package webrtcleg

import (
	"net/http"
	"strings"
)

// A WHIP or WHEP client joins as a moderator (bridge's moderator.go) when its bearer token is
// the room's moderator PIN. A room with a moderator PIN and no PIN takes everyone else without
// a token; a token that is neither PIN is a wrong guess (401), counted like one
// (bridge.PINToCheck).

// bearer returns the request's bearer token, trimmed, and whether it has one.
func bearer(r *http.Request) (string, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return strings.TrimSpace(token), ok
}
