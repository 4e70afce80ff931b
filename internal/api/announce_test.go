package api

import "testing"

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
