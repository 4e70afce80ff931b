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
