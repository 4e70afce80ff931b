package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"confd/bridge"
	"confd/codec"
	"confd/internal/config"
	"confd/internal/guard"
	"confd/rtpfwd"
)

type fakeLeg struct {
	mu     sync.Mutex
	hungUp string
}

func (l *fakeLeg) SendRTP([]byte) {}
func (l *fakeLeg) Hangup(reason string) {
	l.mu.Lock()
	l.hungUp = reason
	l.mu.Unlock()
}

func setup(t *testing.T, token string) (*bridge.Bridge, *Handler, []*bridge.Participant, []*fakeLeg) {
	t.Helper()
	b := bridge.New(bridge.Config{})
	var parts []*bridge.Participant
	var legs []*fakeLeg
	for _, name := range []string{"ann", "bob", "cat"} {
		leg := &fakeLeg{}
		p, err := b.Join("r", bridge.ParticipantInfo{Name: name, Kind: "sip", Output: codec.Format{Codec: codec.PCMU}}, leg)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
		legs = append(legs, leg)
	}
	t.Cleanup(b.Close)
	return b, New(b, Config{Token: token, RoomTokens: NewRoomTokens(0)}, nil), parts, legs
}

// setupWithForwarders is setup's room r with its three people, behind a handler that also
// has a forwarder manager whose allow list is 127.0.0.1 (closed when the test ends).
func setupWithForwarders(t *testing.T) (*bridge.Bridge, *Handler, []*bridge.Participant, *rtpfwd.Manager) {
	t.Helper()
	b, _, parts, _ := setup(t, testToken)
	allow, _ := config.Forwarders{Allow: []string{"127.0.0.1/32"}}.Destinations()
	m := rtpfwd.NewManager(b, rtpfwd.Config{Allow: allow})
	t.Cleanup(m.Close)
	return b, New(b, Config{Token: testToken, RoomTokens: NewRoomTokens(0), Forwarders: m}, nil), parts, m
}

// testToken is the API token of the handlers that setup makes for the tests.
const testToken = "s3cret"

// call runs one request from a loopback peer with the API token (hdr may replace it, or remove
// it with an empty value) and decodes the JSON answer.
func call(t *testing.T, h http.Handler, method, path, contentType, body string, hdr ...string) (int, map[string]any, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = "127.0.0.1:40000"
	req.Header.Set("Authorization", "Bearer "+testToken)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var m map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &m)
	return w.Code, m, w.Body.String()
}

// TestTokenRules is issue 8 item 6's DNS-rebinding attack: a page on rebind.attacker.example
// whose name now resolves to 127.0.0.1, or a reverse proxy on loopback, reaches the API from a
// loopback address. No address is trusted: without the token (or with no token configured at
// all) every /api/* request is refused, whatever Host and X-Forwarded-For say.
func TestTokenRules(t *testing.T) {
	_, unset, _, _ := setup(t, "")
	_, h, _, _ := setup(t, testToken)
	rebind := []string{"Authorization", "", "Host", "rebind.attacker.example:8080", "X-Forwarded-For", "127.0.0.1",
		"X-Real-IP", "127.0.0.1", "Forwarded", "for=127.0.0.1"}
	for name, hh := range map[string]http.Handler{"no token configured": unset, "token configured": h} {
		for _, path := range []string{"/api/rooms", "/api/rooms/r", "/api/rooms/r/matrix", "/api/events"} {
			code, m, body := call(t, hh, "GET", path, "", "", rebind...)
			if code != 401 || m["error"] == nil || strings.Contains(body, "ann") {
				t.Errorf("%s: loopback GET %s with a rebound Host and no token: %d %s, want 401", name, path, code, body)
			}
		}
		if code, _, _ := call(t, hh, "PUT", "/api/rooms/r", "application/json", `{"locked":true}`, rebind...); code != 401 {
			t.Errorf("%s: loopback PUT without token: %d, want 401", name, code)
		}
		for _, probe := range []string{"/healthz", "/readyz"} {
			if code, _, _ := call(t, hh, "GET", probe, "", "", "Authorization", ""); code != 200 {
				t.Errorf("%s: %s without token: %d, want 200 (probes stay open)", name, probe, code)
			}
		}
	}
	if code, _, _ := call(t, unset, "GET", "/api/rooms", "", "", "Authorization", "Bearer "); code != 401 {
		t.Errorf("no token configured, empty bearer: %d, want 401", code)
	}
	for _, auth := range []string{"Bearer wrong", "Basic s3cret", "Bearer s3cret2", "Bearers3cret", "s3cret"} {
		if code, _, _ := call(t, h, "GET", "/api/rooms", "", "", "Authorization", auth); code != 401 {
			t.Errorf("Authorization %q: %d, want 401", auth, code)
		}
	}
	// The scheme in any case (RFC 9110 section 11.1), as WHIP/WHEP and metrics read it
	// (guard.BearerToken); HTTP drops a field value's trailing white space.
	for _, auth := range []string{"bearer s3cret", "BEARER s3cret", "Bearer s3cret "} {
		if code, _, _ := call(t, h, "GET", "/api/rooms", "", "", "Authorization", auth); code != 200 {
			t.Errorf("Authorization %q: %d, want 200", auth, code)
		}
	}
	if code, _, _ := call(t, h, "GET", "/api/rooms", "", ""); code != 200 {
		t.Errorf("right token: %d, want 200", code)
	}
	if code, _, _ := call(t, h, "GET", "/api/rooms?token="+testToken, "", "", "Authorization", ""); code != 401 {
		t.Errorf("API token in the query: %d, want 401 (a query ends up in logs)", code)
	}
}

// TestRoomTokenReadsOnlyItsRoom is the read-only room capability of issue 8 item 6: a page
// participant's token reads its own room's state and events, as a bearer token or ?token=,
// and nothing else: not another room, not the room list, not the matrix, no write.
func TestRoomTokenReadsOnlyItsRoom(t *testing.T) {
	b, h, parts, _ := setup(t, testToken)
	if _, err := b.Join("other", bridge.ParticipantInfo{Name: "zed", Kind: "sip", Output: codec.Format{Codec: codec.PCMU}}, &fakeLeg{}); err != nil {
		t.Fatal(err)
	}
	tok := h.cfg.RoomTokens.Mint("r")
	if !strings.HasPrefix(tok, "rt1.") {
		t.Fatalf("room token %q", tok)
	}
	bearer := "Bearer " + tok
	if code, m, body := call(t, h, "GET", "/api/rooms/r", "", "", "Authorization", bearer); code != 200 || m["room"] != "r" || !strings.Contains(body, "ann") {
		t.Errorf("own room with its token: %d %s, want 200 with the roster", code, body)
	}
	if code, _, _ := call(t, h, "GET", "/api/rooms/r?token="+tok, "", "", "Authorization", ""); code != 200 {
		t.Errorf("own room with ?token=: %d, want 200", code)
	}
	id := parts[0].ID()
	refused := []struct{ method, path, ctype, body string }{
		{"GET", "/api/rooms/other", "", ""},
		{"GET", "/api/rooms/other/events", "", ""},
		{"GET", "/api/rooms", "", ""},
		{"GET", "/api/events", "", ""},
		{"GET", "/api/rooms/r/matrix", "", ""},
		{"PUT", "/api/rooms/r", "application/json", `{"locked":true}`},
		{"PATCH", "/api/rooms/r/participants/" + id, "application/json", `{"muted":true}`},
		{"POST", "/api/rooms/r/mute-all", "application/json", `{}`},
		{"DELETE", "/api/rooms/r/participants/" + id, "application/json", ""},
		{"PUT", "/api/rooms/r/matrix", "application/json", `[]`},
	}
	for _, c := range refused {
		for _, auth := range []string{bearer, ""} {
			path := c.path
			if auth == "" {
				path += "?token=" + tok
			}
			if code, _, body := call(t, h, c.method, path, c.ctype, c.body, "Authorization", auth); code != 401 {
				t.Errorf("room token of r, %s %s: %d %s, want 401", c.method, path, code, body)
			}
		}
	}
	st, _ := b.RoomState("r")
	for _, p := range st.Participants {
		if p.Muted || st.Settings.Locked {
			t.Errorf("a room token changed the room: %+v", st)
		}
	}
	if len(st.Participants) != 3 {
		t.Errorf("a room token removed someone: %d left", len(st.Participants))
	}

	// Tokens from another process (another key), expired ones and tampered ones are refused.
	stranger := NewRoomTokens(0).Mint("r")
	old := NewRoomTokens(time.Hour)
	old.now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
	h2 := New(b, Config{Token: testToken, RoomTokens: old}, nil)
	expired := old.Mint("r")
	old.now = time.Now
	tampered := []byte(tok)
	tampered[len(tampered)-2] ^= 1
	for name, c := range map[string]struct {
		h   http.Handler
		tok string
	}{"another process's": {h, stranger}, "expired": {h2, expired}, "tampered": {h, string(tampered)}, "the API token's prefix": {h, "rt1." + testToken}} {
		if code, _, _ := call(t, c.h, "GET", "/api/rooms/r", "", "", "Authorization", "Bearer "+c.tok); code != 401 {
			t.Errorf("%s room token: %d, want 401", name, code)
		}
	}
	if code, _, _ := call(t, h2, "GET", "/api/rooms/r", "", "", "Authorization", "Bearer "+old.Mint("r")); code != 200 {
		t.Errorf("a fresh token of the same minter: %d, want 200", code)
	}

	// The event stream, as the page opens it.
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/rooms/r/events?token=" + tok)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("events with ?token=: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
}

// TestCrossSiteRequestsChangeNothing is issue 8 item 8: a page on another site may make a
// browser send a "simple" request (text/plain or form-encoded, no preflight) to confd. Every
// state-changing route refuses a foreign Origin (403) and any body that is not JSON, an empty
// one included (415), before anything happens, even with a valid token.
func TestCrossSiteRequestsChangeNothing(t *testing.T) {
	b, h, parts, _ := setup(t, testToken)
	recorded := 0
	h.Handle("POST /api/rooms/{room}/recording", func(w http.ResponseWriter, r *http.Request) {
		recorded++
		WriteJSON(w, 201, map[string]any{"recording": true})
	})
	id := parts[0].ID()
	evil := "https://evil.example"
	cases := []struct {
		name, method, path, ctype, body string
		hdr                             []string
		want                            int
	}{
		{"text/plain recording from another site", "POST", "/api/rooms/r/recording", "text/plain", "x", []string{"Origin", evil}, 403},
		{"JSON recording from another site", "POST", "/api/rooms/r/recording", "application/json", "{}", []string{"Origin", evil}, 403},
		{"recording from a null origin", "POST", "/api/rooms/r/recording", "application/json", "{}", []string{"Origin", "null"}, 403},
		{"recording from the same host on another port", "POST", "/api/rooms/r/recording", "application/json", "{}", []string{"Origin", "http://example.com:9999"}, 403},
		// The page's own Host and port under https: TLS ended at a proxy (guard.Origins.Allows).
		{"text/plain recording from the https page of this server", "POST", "/api/rooms/r/recording", "text/plain", "x", []string{"Origin", "https://example.com"}, 415},
		{"cross-site fetch without Origin", "POST", "/api/rooms/r/recording", "application/json", "{}", []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"text/plain recording, same origin", "POST", "/api/rooms/r/recording", "text/plain", "x", []string{"Origin", "http://example.com"}, 415},
		{"recording without a body or type", "POST", "/api/rooms/r/recording", "", "", nil, 415},
		{"form-encoded mute-all", "POST", "/api/rooms/r/mute-all", "application/x-www-form-urlencoded", "a=b", []string{"Origin", evil}, 403},
		{"form-encoded mute-all, no Origin", "POST", "/api/rooms/r/mute-all", "application/x-www-form-urlencoded", "a=b", nil, 415},
		{"multipart mute-all", "POST", "/api/rooms/r/mute-all", "multipart/form-data; boundary=x", "--x--", nil, 415},
		{"empty mute-all", "POST", "/api/rooms/r/mute-all", "", "", nil, 415},
		{"text/plain DELETE", "DELETE", "/api/rooms/r/participants/" + id, "text/plain", "", nil, 415},
		{"foreign DELETE", "DELETE", "/api/rooms/r/participants/" + id, "application/json", "", []string{"Origin", evil}, 403},
		{"text/plain PATCH", "PATCH", "/api/rooms/r/participants/" + id, "text/plain", `{"muted":true}`, nil, 415},
		{"text/plain PUT room", "PUT", "/api/rooms/r", "text/plain", `{"locked":true}`, nil, 415},
	}
	for _, c := range cases {
		code, m, body := call(t, h, c.method, c.path, c.ctype, c.body, c.hdr...)
		if code != c.want || m["error"] == nil {
			t.Errorf("%s: %d %s, want %d with {\"error\"}", c.name, code, body, c.want)
		}
	}
	if recorded != 0 {
		t.Errorf("the recording route ran %d times", recorded)
	}
	st, _ := b.RoomState("r")
	if st.Settings.Locked || len(st.Participants) != 3 {
		t.Errorf("a refused request changed the room: %+v", st)
	}
	for _, p := range st.Participants {
		if p.Muted {
			t.Errorf("a refused request muted %s", p.Name)
		}
	}

	// The page itself, and an origin the operator allowed, still work.
	if code, _, _ := call(t, h, "POST", "/api/rooms/r/recording", "application/json", "", "Origin", "http://example.com"); code != 201 {
		t.Errorf("same-origin JSON recording: %d, want 201", code)
	}
	allowed := New(b, Config{Token: testToken, AllowedOrigins: []string{"HTTPS://Console.Example:443"}}, nil)
	if code, m, _ := call(t, allowed, "POST", "/api/rooms/r/mute-all", "application/json", "", "Origin", "https://console.example"); code != 200 || m["muted"] != float64(3) {
		t.Errorf("allowed origin's mute-all: %d %v, want 200", code, m)
	}
	// Its browser asks first (CORS preflight) and is told yes; another site's is not.
	preflight := func(origin string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("OPTIONS", "/api/rooms/r/mute-all", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		w := httptest.NewRecorder()
		allowed.ServeHTTP(w, req)
		return w
	}
	if w := preflight("https://console.example"); w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != "https://console.example" ||
		!strings.Contains(w.Header().Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("allowed origin's preflight: %d %v", w.Code, w.Header())
	}
	if w := preflight(evil); w.Code == 204 || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign preflight: %d %v, want no CORS grant", w.Code, w.Header())
	}
}

func TestRefusedRequestsChangeNothing(t *testing.T) {
	b, h, parts, _ := setup(t, testToken)
	id := parts[0].ID()
	cases := []struct {
		name, method, path, ctype, body string
		want                            int
	}{
		{"wrong content type", "PATCH", "/api/rooms/r/participants/" + id, "text/plain", `{"muted":true}`, 415},
		{"malformed JSON", "PATCH", "/api/rooms/r/participants/" + id, "application/json", `{"muted":tru`, 400},
		{"unknown field", "PATCH", "/api/rooms/r/participants/" + id, "application/json", `{"mute":true}`, 400},
		{"two values", "PATCH", "/api/rooms/r/participants/" + id, "application/json", `{"muted":true}{}`, 400},
		{"oversized", "PUT", "/api/rooms/big", "application/json", `{"pin":"` + strings.Repeat("1", 2<<20) + `"}`, 413},
		{"bad role", "PATCH", "/api/rooms/r/participants/" + id, "application/json", `{"muted":true,"role":"king"}`, 400},
		{"coach without target", "PATCH", "/api/rooms/r/participants/" + id, "application/json", `{"muted":true,"role":"coach"}`, 400},
		{"coach of unknown", "PATCH", "/api/rooms/r/participants/" + id, "application/json", `{"muted":true,"role":"coach","target":"999"}`, 404},
		{"unknown participant", "PATCH", "/api/rooms/r/participants/999", "application/json", `{"muted":true}`, 404},
		{"unknown room", "PATCH", "/api/rooms/nope/participants/" + id, "application/json", `{"muted":true}`, 404},
		{"bad room name", "PUT", "/api/rooms/a%20b", "application/json", `{}`, 400},
		{"pin not digits", "PUT", "/api/rooms/r", "application/json", `{"pin":"12ab","locked":true}`, 400},
		{"top_k too big", "PUT", "/api/rooms/r", "application/json", `{"top_k":99,"locked":true}`, 400},
		{"matrix unknown id", "PUT", "/api/rooms/r/matrix", "application/json", `[{"listener":"` + id + `","speaker":"999","gain":0.5}]`, 404},
		{"matrix gain too big", "PUT", "/api/rooms/r/matrix", "application/json", `[{"listener":"` + id + `","speaker":"` + parts[1].ID() + `","gain":4.5}]`, 400},
		{"dial without dialer", "POST", "/api/rooms/r/dial", "application/json", `{"uri":"sip:x@127.0.0.1"}`, 503},
		{"no such route", "GET", "/api/nothing", "", "", 404},
	}
	for _, c := range cases {
		code, m, body := call(t, h, c.method, c.path, c.ctype, c.body)
		if code != c.want || m["error"] == nil {
			t.Errorf("%s: %d %s, want %d with {\"error\"}", c.name, code, body, c.want)
		}
	}
	st, _ := b.RoomState("r")
	for _, p := range st.Participants {
		if p.Muted || p.Role != "normal" {
			t.Errorf("a refused request changed %+v", p)
		}
	}
	if st.Settings.Locked {
		t.Error("a refused PUT locked the room")
	}
	if code, _, body := call(t, h, "GET", "/api/rooms/r/matrix", "", ""); code != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("matrix after refused PUTs: %d %s", code, body)
	}
}

func TestModerationRoutes(t *testing.T) {
	b, h, parts, legs := setup(t, testToken)
	a, bb, c := parts[0].ID(), parts[1].ID(), parts[2].ID()
	if code, m, _ := call(t, h, "PATCH", "/api/rooms/r/participants/"+a, "application/json", `{"role":"coach","target":"`+bb+`"}`); code != 200 || m["role"] != "coach" || m["target"] != bb {
		t.Errorf("coach PATCH: %d %v", code, m)
	}
	if code, _, _ := call(t, h, "PUT", "/api/rooms/r/matrix", "application/json", `[{"listener":"`+c+`","speaker":"`+bb+`","gain":0.5}]`); code != 200 {
		t.Errorf("matrix PUT: %d", code)
	}
	var gains []bridge.Gain
	_, _, body := call(t, h, "GET", "/api/rooms/r/matrix", "", "")
	_ = json.Unmarshal([]byte(body), &gains)
	if len(gains) != 1 || gains[0].Gain != 0.5 || gains[0].Listener != c {
		t.Errorf("matrix GET: %s", body)
	}
	_, _, body = call(t, h, "GET", "/api/rooms/r/matrix?effective=1", "", "")
	gains = nil
	_ = json.Unmarshal([]byte(body), &gains)
	// ann coaches bob: only bob hears ann; cat hears bob at 0.5.
	want := map[[2]string]float32{{c, a}: 0, {c, bb}: 0.5}
	if len(gains) != len(want) {
		t.Errorf("effective matrix %s, want %v", body, want)
	}
	for _, g := range gains {
		if w, ok := want[[2]string{g.Listener, g.Speaker}]; !ok || w != g.Gain {
			t.Errorf("effective gain %+v, want %v", g, want)
		}
	}
	if code, m, _ := call(t, h, "POST", "/api/rooms/r/mute-all", "application/json", ""); code != 200 || m["muted"] != float64(2) {
		t.Errorf("mute-all: %d %v (the coach stays unmuted)", code, m)
	}
	st, _ := b.RoomState("r")
	for _, p := range st.Participants {
		if want := p.ID != a; p.Muted != want {
			t.Errorf("after mute-all %s muted=%v", p.Name, p.Muted)
		}
	}
	if code, _, _ := call(t, h, "DELETE", "/api/rooms/r/participants/"+c, "application/json", ""); code != 204 {
		t.Errorf("DELETE: %d", code)
	}
	if legs[2].hungUp == "" {
		t.Error("DELETE did not hang the leg up")
	}
	if code, m, _ := call(t, h, "PUT", "/api/rooms/quiet", "application/json", `{"pin":"4321","limit":5}`); code != 200 || m["declared"] != true {
		t.Errorf("declare: %d %v", code, m)
	}
	if _, err := b.Admit("quiet"); err != nil {
		t.Errorf("declared room refuses: %v", err)
	}
}

func TestEventStream(t *testing.T) {
	b, h, parts, _ := setup(t, testToken)
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/api/rooms/r/events", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	room, _ := b.Room("r")
	muted := true
	if _, err := room.Update(parts[1].ID(), bridge.Change{Muted: &muted}); err != nil {
		t.Fatal(err)
	}
	parts[1].Leave("bye")
	sc := bufio.NewScanner(resp.Body)
	var events []string
	deadline := time.After(5 * time.Second)
	got := make(chan string)
	go func() {
		for sc.Scan() {
			if ev, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				got <- ev
			}
		}
	}()
	for len(events) < 2 {
		select {
		case e := <-got:
			events = append(events, e)
		case <-deadline:
			t.Fatalf("events so far %v", events)
		}
	}
	if events[0] != "mute" || events[1] != "leave" {
		t.Errorf("events %v, want mute then leave", events)
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

// dialerFunc is a Dialer from a function.
type dialerFunc func(ctx context.Context, room, uri string) (string, error)

func (f dialerFunc) Dial(ctx context.Context, room, uri string) (string, error) {
	return f(ctx, room, uri)
}

// A dial-out the configuration forbids (issue 8 item 5's allow-list) answers 403 and one past the
// dial rate 429 with Retry-After, so an integrator can tell them from a bad URI (400).
func TestDialRefusalsAnswerTheirStatus(t *testing.T) {
	b := bridge.New(bridge.Config{})
	t.Cleanup(b.Close)
	var next error
	h := New(b, Config{Token: testToken, RoomTokens: NewRoomTokens(0), Dialer: dialerFunc(func(context.Context, string, string) (string, error) {
		return "d1", next
	})}, nil)
	for _, tc := range []struct {
		err        error
		status     int
		retryAfter string
	}{
		{nil, 202, ""},
		{fmt.Errorf("sipleg: destination not allowed: %w", guard.ErrNotAllowed), 403, ""},
		{fmt.Errorf("sipleg: dial-out rate limit: %w", &guard.Refusal{Err: guard.ErrRateLimited, RetryAfter: 1500 * time.Millisecond}), 429, "2"},
		{errors.New("sipleg: bad target"), 400, ""},
	} {
		next = tc.err
		req := httptest.NewRequest("POST", "/api/rooms/r/dial", strings.NewReader(`{"uri":"sip:bob@192.0.2.1"}`))
		req.RemoteAddr = "127.0.0.1:40000"
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != tc.status || w.Header().Get("Retry-After") != tc.retryAfter {
			t.Errorf("%v: %d Retry-After %q, want %d %q (%s)", tc.err, w.Code, w.Header().Get("Retry-After"), tc.status, tc.retryAfter, w.Body)
		}
	}
}

// A participant's view (a room token) leaves out what only the operator may see: each caller's
// URI or number ("from", whose host is often the caller's address) and the room's PIN. The API
// token still sees them. Red-team finding: a WHEP POST to an open room got a token, and with it
// every caller's address.
func TestRoomTokenSeesNoCallerAddresses(t *testing.T) {
	b, h, _, _ := setup(t, testToken)
	if _, err := b.Join("r", bridge.ParticipantInfo{Name: "dee", From: "sip:+4930123@198.51.100.7", Kind: "sip", Output: codec.Format{Codec: codec.PCMU}}, &fakeLeg{}); err != nil {
		t.Fatal(err)
	}
	if code, _, body := call(t, h, "PUT", "/api/rooms/r", "application/json", `{"pin":"2468","moderator_pin":"8642","moderators":["+4930999"]}`); code != 200 {
		t.Fatalf("PUT: %d %s", code, body)
	}
	tok := h.cfg.RoomTokens.Mint("r")
	_, _, body := call(t, h, "GET", "/api/rooms/r", "", "", "Authorization", "Bearer "+tok)
	if strings.Contains(body, "198.51.100.7") || strings.Contains(body, "2468") || strings.Contains(body, "8642") || strings.Contains(body, "4930999") || !strings.Contains(body, "dee") || !strings.Contains(body, `"sip:+4930123"`) {
		t.Errorf("the participant's view: %s, want names and numbers without addresses or PIN", body)
	}
	_, _, body = call(t, h, "GET", "/api/rooms/r", "", "")
	if !strings.Contains(body, "198.51.100.7") || !strings.Contains(body, "2468") {
		t.Errorf("the operator's view lacks from or pin: %s", body)
	}
}

func TestRedactFrom(t *testing.T) {
	for from, want := range map[string]string{
		"sip:+4930123@198.51.100.7:5060": "sip:+4930123", "sip:web-k3x@confd.invalid": "sip:web-k3x",
		"whip:198.51.100.7:4000": "whip:", "": "", "tel:+4930123": "tel:+4930123",
	} {
		if got := redactFrom(from); got != want {
			t.Errorf("redactFrom(%q) = %q, want %q", from, got, want)
		}
	}
}

// TestTooLargeBodySaysTheLimitThatTripped: a body over the server's max_body_bytes (smaller
// than the API's own 1 MiB) is refused 413 naming that limit; it named 1048576 whichever
// limit had tripped.
func TestTooLargeBodySaysTheLimitThatTripped(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest("PUT", "/api/rooms/r", strings.NewReader(`{"pin":"`+strings.Repeat("1", 100)+`"}`))
	r.Header.Set("Content-Type", "application/json")
	r.Body = http.MaxBytesReader(w, r.Body, 10) // as the server's limit wraps every body
	var v map[string]any
	if readJSON(w, r, &v) || w.Code != 413 || !strings.Contains(w.Body.String(), "larger than 10 bytes") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

// TestDrainingRefusalCarriesRetryAfter: the API answers a draining bridge as every leg does,
// 503 with Retry-After (bridge.DrainingRetryAfter); it sent none, where SIP and WHIP sent 60.
func TestDrainingRefusalCarriesRetryAfter(t *testing.T) {
	w := httptest.NewRecorder()
	writeBridgeError(w, bridge.ErrDraining)
	if w.Code != 503 || w.Header().Get("Retry-After") != strconv.Itoa(bridge.DrainingRetryAfter) {
		t.Fatalf("%d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
}

// TestTargetURIIsTheLegsToJudge: the API has no URI rule of its own for a dial-out or a
// transfer (the SIP leg's one parse decides, sip: and sips:): every URI reaches the leg, and
// the leg's refusal (a bridge.ErrBadSetting) is 400 through bridge.StatusOf.
func TestTargetURIIsTheLegsToJudge(t *testing.T) {
	b, h, _, _ := setup(t, testToken)
	var dialled []string
	h.cfg.Dialer = dialerFunc(func(_ context.Context, _, uri string) (string, error) {
		dialled = append(dialled, uri)
		if uri == "tel:+15551234" {
			return "", fmt.Errorf("sipleg: bad SIP URI (%w): %q", bridge.ErrBadSetting, uri)
		}
		return "d1", nil
	})
	for _, c := range []struct {
		uri  string
		want int
	}{{"sips:bob@192.0.2.1", 202}, {"tel:+15551234", 400}} {
		if code, got, _ := call(t, h, "POST", "/api/rooms/r/dial", "application/json", `{"uri":"`+c.uri+`"}`); code != c.want {
			t.Errorf("dial %s: %d %v, want %d", c.uri, code, got, c.want)
		}
	}
	if len(dialled) != 2 {
		t.Errorf("the dialer was asked %v, want both URIs", dialled)
	}
	leg := &askedLeg{}
	p, err := b.Join("r", bridge.ParticipantInfo{Name: "dee", Kind: "sip"}, leg)
	if err != nil {
		t.Fatal(err)
	}
	if code, got, _ := call(t, h, "POST", "/api/rooms/r/participants/"+p.ID()+"/transfer", "application/json", `{"uri":"tel:+15551234"}`); code != 400 {
		t.Errorf("transfer to tel: %d %v, want 400", code, got)
	}
	if len(leg.asked) != 1 || leg.asked[0] != "tel:+15551234" {
		t.Errorf("the leg was asked %v, want the tel: URI", leg.asked)
	}
}

// askedLeg records every transfer asked of it and refuses any, as a leg refuses a URI it
// cannot call.
type askedLeg struct {
	fakeLeg
	asked []string
}

func (l *askedLeg) Transfer(_ context.Context, target string) error {
	l.asked = append(l.asked, target)
	return fmt.Errorf("sipleg: bad SIP URI (%w): %q", bridge.ErrBadSetting, target)
}

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
	b, h, parts, _ := setupWithForwarders(t)
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
