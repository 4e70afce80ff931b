package bridge

import "confd/internal/guard"

// PINToCheck is the one rule by which every leg (the IVR's PIN prompt, a WHIP/WHEP bearer
// token, `;pin=` or X-Confd-PIN over SIP over WebSocket) decides what the PIN a caller gave is
// checked against in a room with these PINs (docs/SPEC.md "Moderators"), and whether the
// caller joins as a moderator once the check passes. gave says whether the caller gave a PIN
// at all (an empty one counts as none).
//
//   - The moderator PIN, when it is the one given, is the secret and makes a moderator.
//   - A room with a moderator PIN and no PIN takes a caller who gives none as an ordinary
//     participant (secret ""), and checks any other PIN against the moderator PIN, so that a
//     wrong guess is counted as one (guard.Attempts).
//   - Otherwise the room's PIN is the secret; "" means there is nothing to check.
//
// The comparison takes the same time whatever the PINs share (guard.SecretMatches).
func PINToCheck(pin, moderatorPIN, given string, gave bool) (secret string, moderator bool) {
	gave = gave && given != ""
	switch {
	case gave && guard.SecretMatches(given, moderatorPIN):
		return moderatorPIN, true
	case pin == "" && moderatorPIN != "" && gave:
		return moderatorPIN, false
	}
	return pin, false
}
