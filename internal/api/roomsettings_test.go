package api

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"confd/bridge"
)

// TestPutRoomSaysTheBridgesRule: PUT /api/rooms/ROOM refuses bad settings with the bridge's
// one rule (bridge.RoomSettings.Validate), naming the key: the PIN's digits, the moderator PIN
// that equals the PIN, an agc_level out of range.
func TestPutRoomSaysTheBridgesRule(t *testing.T) {
	b := bridge.New(bridge.Config{})
	t.Cleanup(b.Close)
	h := New(b, Config{Token: testToken}, nil)
	for body, want := range map[string]string{
		`{"pin":"12ab"}`:                    "pin must be 1-16 digits",
		`{"pin":"12345678901234567"}`:       "pin must be 1-16 digits",
		`{"moderator_pin":"9x"}`:            "moderator_pin must be 1-16 digits",
		`{"pin":"42","moderator_pin":"42"}`: "moderator_pin must differ from the pin",
		`{"agc_level":3}`:                   "agc_level",
	} {
		code, m, raw := call(t, h, "PUT", "/api/rooms/r", "application/json", body)
		if msg, _ := m["error"].(string); code != 400 || !strings.Contains(msg, want) {
			t.Errorf("PUT %s: %d %s, want 400 saying %q", body, code, raw, want)
		}
	}
	if _, ok := b.Declared()["r"]; ok {
		t.Error("a refused PUT declared the room")
	}
}

// TestRoomStoreRefusesBadSettings: a -data-dir state file whose room breaks the bridge's rule
// (written by hand, or by a version that checked less) is refused when opened, naming the room,
// so that confd does not start with a room other than the one declared.
func TestRoomStoreRefusesBadSettings(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, RoomStoreFile), []byte(`{"rooms":{"r":{"pin":"12a"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := OpenRoomStore(dir)
	if err == nil || !strings.Contains(err.Error(), `room "r"`) || !strings.Contains(err.Error(), "pin must be 1-16 digits") {
		t.Fatalf("OpenRoomStore = %v, want refused naming room \"r\" and the PIN rule", err)
	}
}
