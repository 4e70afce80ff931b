package config

import (
	"io"
	"os"
	"path/filepath"
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

// parseTOML parses a config file of this text.
func parseTOML(t *testing.T, toml string) (Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "confd.toml")
	if err := os.WriteFile(path, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	return Parse([]string{"-config", path}, io.Discard)
}
