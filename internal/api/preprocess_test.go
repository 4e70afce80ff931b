package api

import (
	"testing"
)

// TestPreprocessingThroughTheAPI: PUT a room with denoise, agc and agc_level, PATCH a
// participant's own denoise; the answers show what is in effect, and an agc_level out of range is
// a 400 that changes nothing.
func TestPreprocessingThroughTheAPI(t *testing.T) {
	_, h, parts, _ := setup(t, testToken)
	if code, _, body := call(t, h, "PUT", "/api/rooms/r", "application/json", `{"denoise":true,"agc":true,"agc_level":-24}`); code != 200 && code != 201 && code != 204 {
		t.Fatalf("PUT room with denoise: %d %s", code, body)
	}
	code, m, body := call(t, h, "GET", "/api/rooms/r", "", "")
	settings, _ := m["settings"].(map[string]any)
	if code != 200 || settings["denoise"] != true || settings["agc"] != true || settings["agc_level"] != float64(-24) {
		t.Fatalf("GET room: %d %s", code, body)
	}
	id := parts[0].ID()
	code, m, body = call(t, h, "PATCH", "/api/rooms/r/participants/"+id, "application/json", `{"denoise":false}`)
	if code != 200 || m["denoise"] != false || m["agc"] != true {
		t.Errorf("PATCH denoise false: %d %s, want denoise false, agc true (the room's)", code, body)
	}
	if code, _, body := call(t, h, "PUT", "/api/rooms/r", "application/json", `{"agc":true,"agc_level":6}`); code != 400 {
		t.Errorf("agc_level 6: %d %s, want 400", code, body)
	}
	if _, m, _ := call(t, h, "GET", "/api/rooms/r", "", ""); m["settings"].(map[string]any)["agc_level"] != float64(-24) {
		t.Errorf("a refused PUT changed the room: %v", m["settings"])
	}
}
