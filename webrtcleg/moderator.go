package webrtcleg

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"confd/bridge"
)

// A WHIP or WHEP client joins as a moderator (bridge's moderator.go) when its bearer token is
// the room's moderator PIN. A room with a moderator PIN and no PIN takes everyone else without
// a token; a token that is neither PIN is a wrong guess (401), counted like one.

// bearer returns the request's bearer token, trimmed, and whether it has one.
func bearer(r *http.Request) (string, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return strings.TrimSpace(token), ok
}

// isModeratorPIN reports whether the request's bearer token is the room's moderator PIN.
func isModeratorPIN(r *http.Request, s bridge.RoomSettings) bool {
	token, ok := bearer(r)
	return ok && s.ModeratorPIN != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.ModeratorPIN)) == 1
}

// checkPINs is checkPIN for a room that may also have a moderator PIN: the moderator PIN, when
// it is the token, is the secret checked (and counted in the same step, guard.Attempts.Check);
// in a room with only a moderator PIN, no token is an ordinary participant and any other
// token a wrong guess.
func (s *Server) checkPINs(r *http.Request, room string, st bridge.RoomSettings) error {
	token, ok := bearer(r)
	switch {
	case isModeratorPIN(r, st):
		return s.checkPIN(r, room, st.ModeratorPIN)
	case st.PIN == "" && st.ModeratorPIN != "" && ok && token != "":
		return s.checkPIN(r, room, st.ModeratorPIN) // wrong: counted as such
	}
	return s.checkPIN(r, room, st.PIN)
}
