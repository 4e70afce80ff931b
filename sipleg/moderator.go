package sipleg

import (
	"slices"

	"confd/bridge"
)

// A SIP caller joins a room as a moderator (bridge's moderator.go) in one of two ways: it
// types the room's moderator PIN at the PIN prompt (a room with a moderator PIN and no PIN asks
// for it too, and takes '#' alone from everyone else), or it is a trusted dial-in: its call
// comes from one of security.trunks (a PBX or carrier whose From the operator trusts) and its
// From user is in the room's moderators list, and it then joins without a PIN.

// trustedModerator reports whether the call is a trusted dial-in listed as a moderator of the
// room whose settings are s.
func (c *call) trustedModerator(s bridge.RoomSettings) bool {
	return c.fromUser != "" && slices.Contains(s.Moderators, c.fromUser) && c.s.gate.Auth.Trunk(c.peer)
}

// moderatorSettings applies the room's moderator settings to a call to it, before its IVR is
// prepared: a trusted moderator joins without a PIN, anyone else is asked for one when the room
// has a moderator PIN.
func (c *call) moderatorSettings(s bridge.RoomSettings) {
	if c.trustedModerator(s) {
		c.moderator.Store(true)
		c.pin = ""
		return
	}
	c.modPIN = s.ModeratorPIN
}
