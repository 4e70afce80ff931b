package api

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"confd/bridge"
	"confd/testkit"
	"confd/testkit/audiotest"
)

// TestPutRoomReadsNoFileOfTheAPIsChoosing (red team, issue 13): PUT /api/rooms/ROOM may name
// only hold music confd decoded from its config file. Before, any path was opened and read
// whole: /dev/zero grew confd's memory until the kernel killed it, a FIFO hung the request for
// ever, and the answer told whether /etc/shadow exists. Each is now 400 at once and changes
// nothing; the config file's own music is still accepted.
func TestPutRoomReadsNoFileOfTheAPIsChoosing(t *testing.T) {
	dir := t.TempDir()
	music := filepath.Join(dir, "hold.wav")
	if err := audiotest.WriteWAV(music, 8000, 1, make([]int16, 8000)); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.wav") // a good file, but not the config file's
	if err := audiotest.WriteWAV(other, 8000, 1, make([]int16, 8000)); err != nil {
		t.Fatal(err)
	}
	b := bridge.New(bridge.Config{Rooms: map[string]bridge.RoomSettings{"lobby": {HoldMusic: music}}})
	t.Cleanup(b.Close)
	if err := b.LoadHoldMusic(); err != nil {
		t.Fatal(err)
	}
	h := New(b, Config{Token: testToken, RoomTokens: NewRoomTokens(0)}, nil)

	for _, path := range append(testkit.HostilePaths(t), "/etc/shadow", "/no/such/file", other, dir+"/./hold.wav", "hold.wav") {
		var code int
		var body string
		testkit.ReturnsWithin(t, 10*time.Second, "PUT hold_music "+path, func() {
			code, _, body = call(t, h, "PUT", "/api/rooms/side", "application/json", `{"hold_music":"`+path+`"}`)
		})
		if strings.Contains(body, "permission") || strings.Contains(body, "no such file") {
			t.Errorf("%s: the answer tells about the file: %s", path, body)
		}
		if code != 400 {
			t.Errorf("hold_music %s: %d, want 400", path, code)
		}
		if _, err := b.RoomState("side"); err == nil {
			t.Fatalf("hold_music %s: the room was declared", path)
		}
	}
	if code, _, body := call(t, h, "PUT", "/api/rooms/side", "application/json", `{"hold_music":"`+music+`"}`); code != 200 {
		t.Errorf("the config file's hold music: %d %s", code, body)
	}
	if _, err := os.Stat(music); err != nil {
		t.Fatal(err)
	}
}

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

// TestPutRoomAnnouncements: PUT /api/rooms/ROOM takes announce_user_count and
// announce_join_leave, and GET shows them.
func TestPutRoomAnnouncements(t *testing.T) {
	_, h, _, _ := setup(t, testToken)
	if code, body, raw := call(t, h, "PUT", "/api/rooms/hall", "application/json", `{"announce_user_count":true,"announce_join_leave":true}`); code != 200 {
		t.Fatalf("PUT: %d %v %s", code, body, raw)
	}
	code, body, raw := call(t, h, "GET", "/api/rooms/hall", "", "")
	settings, _ := body["settings"].(map[string]any)
	if code != 200 || settings["announce_user_count"] != true || settings["announce_join_leave"] != true {
		t.Fatalf("GET: %d %s", code, raw)
	}
}

// TestDeclaredRoomsKeptAcrossRestartsAndDeleted: PUT declares a room, which a second API over a
// new bridge and the same data directory (a restart) still has, with effective settings shown
// (top_k 3 for 0); DELETE removes it, also for the next start; a room never declared is 404.
func TestDeclaredRoomsKeptAcrossRestartsAndDeleted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	start := func() *Handler {
		store, err := OpenRoomStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		b := bridge.New(bridge.Config{Rooms: store.Rooms()})
		t.Cleanup(b.Close)
		return New(b, Config{Token: testToken, Rooms: store}, nil)
	}
	h := start()
	code, m, body := call(t, h, "PUT", "/api/rooms/board", "application/json", `{"pin":"1234","limit":5}`)
	if code != 200 {
		t.Fatalf("PUT: %d %s", code, body)
	}
	if s := m["settings"].(map[string]any); s["top_k"] != float64(3) || s["limit"] != float64(5) {
		t.Errorf("settings shown %v, want the effective top_k 3", s)
	}
	call(t, h, "PUT", "/api/rooms/lobby", "application/json", `{}`)

	h = start() // the restart
	code, m, body = call(t, h, "GET", "/api/rooms/board", "", "")
	if code != 200 || m["declared"] != true || m["settings"].(map[string]any)["pin"] != "1234" {
		t.Fatalf("after a restart: %d %s", code, body)
	}
	if code, _, body := call(t, h, "DELETE", "/api/rooms/board", "application/json", ""); code != 204 {
		t.Fatalf("DELETE: %d %s", code, body)
	}
	if code, _, _ := call(t, h, "GET", "/api/rooms/board", "", ""); code != 404 {
		t.Errorf("GET after DELETE: %d, want 404", code)
	}
	if code, _, _ := call(t, h, "DELETE", "/api/rooms/board", "application/json", ""); code != 404 {
		t.Errorf("second DELETE: %d, want 404", code)
	}

	h = start()
	if code, _, _ := call(t, h, "GET", "/api/rooms/board", "", ""); code != 404 {
		t.Errorf("deleted room back after a restart: %d", code)
	}
	if code, _, _ := call(t, h, "GET", "/api/rooms/lobby", "", ""); code != 200 {
		t.Errorf("lobby lost: %d", code)
	}
	// The file holds PINs: only confd's user reads it, and no temporary file is left beside it.
	fi, err := os.Stat(filepath.Join(dir, RoomStoreFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file: %v %v", fi, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, RoomStoreFile+".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestDeleteOfARoomInUseKeepsItsCallers: undeclaring a room with participants keeps them and
// the room's settings (its PIN is not dropped under them) until it empties.
func TestDeleteOfARoomInUseKeepsItsCallers(t *testing.T) {
	b, h, _, _ := setup(t, testToken)
	if code, _, body := call(t, h, "PUT", "/api/rooms/r", "application/json", `{"limit":9}`); code != 200 {
		t.Fatal(code, body)
	}
	if code, _, _ := call(t, h, "DELETE", "/api/rooms/r", "application/json", ""); code != 204 {
		t.Fatal(code)
	}
	st, err := b.RoomState("r")
	if err != nil || st.Declared || len(st.Participants) != 3 || st.Settings.Limit != 9 {
		t.Errorf("room after DELETE: %+v %v", st, err)
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
