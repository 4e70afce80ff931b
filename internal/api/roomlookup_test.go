package api

import (
	"net/http"
	"strings"
	"testing"

	"confd/bridge"
	"confd/internal/config"
	"confd/rtpfwd"
)

// withRoom is a route pattern with its {room} (and {id}) filled in.
func withRoom(pattern, room, id string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	return method, strings.NewReplacer("{room}", room, "{id}", id).Replace(path)
}

// TestBadRoomNameIs400OnEveryRoute (review finding 4): a room name docs/SPEC.md does not allow
// is 400 with the rule on every route that names a room, whatever the route would do next (a
// lookup, a declaration, a body to read, a feature that is off), and a room token cannot be
// used to learn more than 401.
func TestBadRoomNameIs400OnEveryRoute(t *testing.T) {
	_, h, parts, _ := setup(t, testToken)
	rooms := 0
	for _, pattern := range h.Routes() {
		if !strings.Contains(pattern, "{room}") {
			continue
		}
		rooms++
		for _, bad := range []string{"bad.name", "no%20good", strings.Repeat("x", 65)} {
			method, path := withRoom(pattern, bad, parts[0].ID())
			code, m, body := call(t, h, method, path, "application/json", "{}")
			if code != http.StatusBadRequest || !strings.Contains(m["error"].(string), bridge.RoomNamePattern) {
				t.Errorf("%s %s: %d %s, want 400 saying %s", method, path, code, body, bridge.RoomNamePattern)
			}
		}
	}
	if rooms < 12 {
		t.Fatalf("only %d routes name a room: the walk is broken", rooms)
	}
}

// TestUnknownRoomIs404OnEveryRoomRoute (review finding 4): a good name of a room that nobody is
// in is 404 "no such room" on every route that acts on the room's people, through the same
// bridge error (bridge.ErrNoRoom) as GET /api/rooms/ROOM.
func TestUnknownRoomIs404OnEveryRoomRoute(t *testing.T) {
	b, _, parts, _ := setup(t, testToken)
	allow, _ := config.Forwarders{Allow: []string{"127.0.0.1/32"}}.Destinations()
	m := rtpfwd.NewManager(b, rtpfwd.Config{Allow: allow})
	defer m.Close()
	h := New(b, Config{Token: testToken, RoomTokens: NewRoomTokens(0), Forwarders: m}, nil)
	for _, c := range []struct{ pattern, body string }{
		{"GET /api/rooms/{room}", ""},
		{"DELETE /api/rooms/{room}", ""},
		{"PATCH /api/rooms/{room}/participants/{id}", `{"muted":true}`},
		{"DELETE /api/rooms/{room}/participants/{id}", ""},
		{"POST /api/rooms/{room}/participants/{id}/move", `{"room":"r"}`},
		{"POST /api/rooms/{room}/participants/{id}/transfer", `{"uri":"sip:a@127.0.0.1"}`},
		{"POST /api/rooms/{room}/mute-all", "{}"},
		{"GET /api/rooms/{room}/matrix", ""},
		{"PUT /api/rooms/{room}/matrix", "[]"},
		{"GET /api/rooms/{room}/forwarders", ""},
		{"POST /api/rooms/{room}/forwarders", `{"host":"127.0.0.1","port":5004,"codec":"PCMU"}`},
	} {
		method, path := withRoom(c.pattern, "nobody-here", parts[0].ID())
		code, got, body := call(t, h, method, path, "application/json", c.body)
		if code != http.StatusNotFound || !strings.Contains(got["error"].(string), bridge.ErrNoRoom.Error()) || !strings.Contains(body, "nobody-here") {
			t.Errorf("%s %s: %d %s, want 404 %q naming the room", method, path, code, body, bridge.ErrNoRoom)
		}
	}
	if st, _ := b.RoomState("r"); len(st.Participants) != 3 || st.Participants[0].Muted {
		t.Errorf("a refused request changed room r: %+v", st.Participants)
	}
}
