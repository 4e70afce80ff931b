package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"confd/bridge"
	"confd/problem"
)

// TestWrongMethodIs405WithAllow: a method a path does not take is 405 with the methods it does
// (RFC 9110 section 15.5.6), not 404; a path with no route at all is still 404.
func TestWrongMethodIs405WithAllow(t *testing.T) {
	_, h, _, _ := setup(t, testToken)
	for _, c := range []struct{ method, path, allow string }{
		{"POST", "/api/rooms", "GET, HEAD"},
		{"PATCH", "/api/rooms/r", "GET, HEAD, PUT, DELETE"},
		{"GET", "/api/rooms/r/mute-all", "POST"},
		{"POST", "/api/rooms/r/participants/x", "PATCH, DELETE"},
	} {
		req := httptest.NewRequest(c.method, c.path, strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 405 || w.Header().Get("Allow") != c.allow {
			t.Errorf("%s %s: %d Allow %q, want 405 Allow %q", c.method, c.path, w.Code, w.Header().Get("Allow"), c.allow)
		}
	}
	if code, _, _ := call(t, h, "GET", "/api/nothing/here", "", ""); code != 404 {
		t.Errorf("unknown path: %d, want 404", code)
	}
	// The 405 is no way around the token.
	if code, _, _ := call(t, h, "POST", "/api/rooms", "application/json", "{}", "Authorization", ""); code != 401 {
		t.Errorf("wrong method without a token: %d, want 401", code)
	}
}

// TestErrorsAreProblemDetails: every refusal is an RFC 9457 problem document that keeps the
// "error" member the web page reads.
func TestErrorsAreProblemDetails(t *testing.T) {
	_, h, _, _ := setup(t, testToken)
	for _, c := range []struct {
		method, path, ctype, body string
		hdr                       []string
		status                    int
	}{
		{"GET", "/api/rooms", "", "", []string{"Authorization", ""}, 401},
		{"GET", "/api/rooms/nope", "", "", nil, 404},
		{"PUT", "/api/rooms/r", "text/plain", "{}", nil, 415},
		{"PUT", "/api/rooms/r", "application/json", `{"top_k": 99}`, nil, 400},
		{"DELETE", "/api/rooms/r", "application/json", "", nil, 404},
	} {
		req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		for i := 0; i+1 < len(c.hdr); i += 2 {
			req.Header.Del(c.hdr[i])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		var m map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Errorf("%s %s: body %q: %v", c.method, c.path, w.Body, err)
		}
		if w.Code != c.status || w.Header().Get("Content-Type") != problem.ContentType {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, w.Code, w.Header().Get("Content-Type"), c.status, problem.ContentType)
		}
		if m["type"] != "about:blank" || m["title"] != http.StatusText(c.status) || m["status"] != float64(c.status) ||
			m["detail"] == "" || m["detail"] != m["error"] {
			t.Errorf("%s %s: problem %v", c.method, c.path, m)
		}
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

// TestEventStreamResumesAfterAULID: an SSE client that reconnects with the Last-Event-ID of the
// last event it saw gets exactly the events after it, room_finished included, each with its
// ULID on the id: line; a Last-Event-ID from before ULIDs ("41") replays nothing rather than
// everything.
func TestEventStreamResumesAfterAULID(t *testing.T) {
	b, h, parts, _ := setup(t, testToken)
	srv := httptest.NewServer(h)
	defer srv.Close()
	sub := b.Bus().Subscribe("r", 16, "")
	parts[0].Leave("bye")
	seen := (<-sub.C).ID // ann's leave: the client saw this one, then lost its connection
	parts[1].Leave("bye")
	parts[2].Leave("bye") // the last: room_finished follows
	sub.Close()

	stream := func(lastID string) (ids, types []string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/rooms/r/events", nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Last-Event-ID", lastID)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		// A marker after the subscription: whatever was replayed comes before it.
		b.Bus().Publish(bridge.Event{Type: bridge.EventDTMF, Room: "r"})
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() && len(types) < 4 {
			if id, ok := strings.CutPrefix(sc.Text(), "id: "); ok {
				ids = append(ids, id)
			}
			if ev, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				types = append(types, ev)
			}
			if len(types) > 0 && types[len(types)-1] == "dtmf" {
				return ids[:len(ids)-1], types[:len(types)-1]
			}
		}
		return ids, types
	}
	ids, types := stream(seen)
	if strings.Join(types, " ") != "leave leave room_finished" || len(ids) != 3 || !(seen < ids[0] && ids[0] < ids[1] && ids[1] < ids[2]) {
		t.Errorf("resumed after %s: %v %v, want bob's and cat's leave then room_finished", seen, ids, types)
	}
	if ids, _ := stream("41"); len(ids) != 0 {
		t.Errorf("a numeric Last-Event-ID replayed %v", ids)
	}
}
