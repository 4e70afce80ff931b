package config

import (
	"strings"
	"testing"
)

// TestRoomModeratorAndHoldMusicKeys: a room's moderator and hold-music keys are read, and a
// moderator PIN that is not digits or equals the PIN is refused.
func TestRoomModeratorAndHoldMusicKeys(t *testing.T) {
	parse := func(toml string) (Config, error) { return parseTOML(t, toml) }
	c, err := parse(`[[room]]
name = "webinar"
pin = "1234"
moderator_pin = "9999"
moderators = ["+15550123", "alice"]
wait_for_moderator = true
end_with_moderator = true
hold_music = "/srv/hold.ogg"
announce_only_participant = true
announce_user_count = true
announce_join_leave = true
`)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Rooms[0]
	if r.ModeratorPIN != "9999" || len(r.Moderators) != 2 || !r.WaitForModerator || !r.EndWithModerator ||
		r.HoldMusic != "/srv/hold.ogg" || !r.AnnounceOnlyParticipant || !r.AnnounceUserCount || !r.AnnounceJoinLeave {
		t.Errorf("parsed %+v", r)
	}
	for _, bad := range []string{`moderator_pin = "1234"`, `moderator_pin = "12a"`} {
		if _, err := parse("[[room]]\nname = \"r\"\npin = \"1234\"\n" + bad + "\n"); err == nil || !strings.Contains(err.Error(), "moderator_pin") {
			t.Errorf("%s: %v, want refused", bad, err)
		}
	}
}

// TestRoomSettingsAreCheckedByTheBridgesRule: a room of the config file is checked by
// bridge.RoomSettings.Validate, the rule of the API and the bridge, so a setting the bridge
// refuses (an agc_level out of range, which the file's own check missed) stops confd at start
// with the room and the key named; Room.Settings carries every key to the bridge.
func TestRoomSettingsAreCheckedByTheBridgesRule(t *testing.T) {
	parse := func(toml string) (Config, error) { return parseTOML(t, toml) }
	for _, bad := range []string{"agc_level = 5", "agc_level = -99", "top_k = 17", "limit = -1", `pin = "12a"`} {
		_, err := parse("[[room]]\nname = \"r\"\n" + bad + "\n")
		key := strings.TrimSpace(strings.Split(bad, "=")[0])
		if err == nil || !strings.Contains(err.Error(), `room "r"`) || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: %v, want refused naming room \"r\" and %s", bad, err, key)
		}
	}
	c, err := parse("[[room]]\nname = \"r\"\npin = \"12\"\nmoderator_pin = \"34\"\nlimit = 4\ntop_k = 5\nrecord = true\nchimes = true\n" +
		"locked = true\nmoderators = [\"alice\"]\nwait_for_moderator = true\nend_with_moderator = true\nhold_music = \"/m.wav\"\n" +
		"announce_only_participant = true\nannounce_user_count = true\nannounce_join_leave = true\ndenoise = true\nagc = true\nagc_level = -18\n")
	if err != nil {
		t.Fatal(err)
	}
	s := c.Rooms[0].Settings()
	if s.PIN != "12" || s.ModeratorPIN != "34" || s.Limit != 4 || s.TopK != 5 || !s.Record || !s.Chimes || !s.Locked ||
		len(s.Moderators) != 1 || !s.WaitForModerator || !s.EndWithModerator || s.HoldMusic != "/m.wav" ||
		!s.AnnounceOnlyParticipant || !s.AnnounceUserCount || !s.AnnounceJoinLeave || !s.Denoise || !s.AGC || s.AGCLevel != -18 {
		t.Errorf("Settings() = %+v", s)
	}
}

// TestRoomPreprocessingKeys: a declared room's denoise, agc and agc_level are read from the file.
func TestRoomPreprocessingKeys(t *testing.T) {
	c, err := parseTOML(t, "[[room]]\nname = \"quiet\"\ndenoise = true\nagc = true\nagc_level = -24\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rooms) != 1 || !c.Rooms[0].Denoise || !c.Rooms[0].AGC || c.Rooms[0].AGCLevel != -24 {
		t.Errorf("rooms parsed as %+v", c.Rooms)
	}
}
