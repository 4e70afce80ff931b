package api

import (
	"testing"

	"confd/bridge"
	"confd/codec"
)

// TestMoveParticipantRoute: POST .../move answers 200 with the participant as it now is in the
// other room (same id), which GET shows; a locked room 403, a full one 409, a wrong PIN 403, an
// unknown participant 404, a bad room name 400; a refused move leaves it where it was.
func TestMoveParticipantRoute(t *testing.T) {
	b, h, parts, _ := setup(t, testToken)
	ann := parts[0].ID()
	for _, put := range []struct{ room, body string }{
		{"locked", `{"locked":true}`}, {"full", `{"limit":1}`}, {"pinned", `{"pin":"1234","moderator_pin":"9876"}`},
	} {
		if code, _, body := call(t, h, "PUT", "/api/rooms/"+put.room, "application/json", put.body); code != 200 {
			t.Fatalf("PUT %s: %d %s", put.room, code, body)
		}
	}
	if _, err := b.Join("full", bridge.ParticipantInfo{Name: "zed", Kind: "sip", Output: codec.Format{Codec: codec.PCMU}}, &fakeLeg{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path, body string
		want       int
	}{
		{"/api/rooms/r/participants/" + ann + "/move", `{"room":"locked"}`, 403},
		{"/api/rooms/r/participants/" + ann + "/move", `{"room":"full"}`, 409},
		{"/api/rooms/r/participants/" + ann + "/move", `{"room":"pinned","pin":"1111"}`, 403},
		{"/api/rooms/r/participants/" + ann + "/move", `{"room":"no good"}`, 400},
		{"/api/rooms/r/participants/" + ann + "/move", `{"room":"x","extra":1}`, 400},
		{"/api/rooms/r/participants/nobody/move", `{"room":"x"}`, 404},
		{"/api/rooms/gone/participants/" + ann + "/move", `{"room":"x"}`, 404},
	} {
		if code, _, body := call(t, h, "POST", c.path, "application/json", c.body); code != c.want {
			t.Errorf("POST %s %s: %d %s, want %d", c.path, c.body, code, body, c.want)
		}
	}
	if code, m, body := call(t, h, "POST", "/api/rooms/r/participants/"+ann+"/move", "application/json", `{"room":"pinned","pin":"9876"}`); code != 200 || m["id"] != ann || m["moderator"] != true {
		t.Fatalf("move with the moderator PIN: %d %s", code, body)
	}
	_, m, _ := call(t, h, "GET", "/api/rooms/pinned", "", "")
	if ps, _ := m["participants"].([]any); len(ps) != 1 || ps[0].(map[string]any)["id"] != ann {
		t.Errorf("pinned after the move: %v", m["participants"])
	}
	_, m, _ = call(t, h, "GET", "/api/rooms/r", "", "")
	if ps, _ := m["participants"].([]any); len(ps) != 2 {
		t.Errorf("r after the move has %d participants, want 2", len(ps))
	}
}
