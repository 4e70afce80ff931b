package config

import "confd/bridge"

// Settings returns the room's settings as the bridge takes them: the one translation of a
// [[room]] table, which Validate checks with bridge.RoomSettings.Validate and cmd/confd declares.
func (r Room) Settings() bridge.RoomSettings {
	return bridge.RoomSettings{PIN: r.PIN, Locked: r.Locked, Limit: r.Limit, TopK: r.TopK, Record: r.Record, Chimes: r.Chimes,
		ModeratorPIN: r.ModeratorPIN, Moderators: r.Moderators, WaitForModerator: r.WaitForModerator,
		EndWithModerator: r.EndWithModerator, HoldMusic: r.HoldMusic, AnnounceOnlyParticipant: r.AnnounceOnlyParticipant,
		Denoise: r.Denoise, AGC: r.AGC, AGCLevel: r.AGCLevel,
		AnnounceUserCount: r.AnnounceUserCount, AnnounceJoinLeave: r.AnnounceJoinLeave}
}
