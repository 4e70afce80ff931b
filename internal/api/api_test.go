package api

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"confd/bridge"
	"confd/codec"
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
	return b, New(b, Config{Token: token}, nil), parts, legs
}

// call runs one request from a loopback peer and decodes the JSON answer.
func call(t *testing.T, h http.Handler, method, path, contentType, body string, hdr ...string) (int, map[string]any, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = "127.0.0.1:40000"
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var m map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &m)
	return w.Code, m, w.Body.String()
}

func TestTokenRules(t *testing.T) {
	_, open, _, _ := setup(t, "")
	req := httptest.NewRequest("GET", "/api/rooms", nil)
	req.RemoteAddr = "192.0.2.7:5555"
	w := httptest.NewRecorder()
	open.ServeHTTP(w, req)
	if w.Code != 403 || !strings.Contains(w.Body.String(), `"error"`) {
		t.Errorf("no token, remote peer: %d %s, want 403 with an error", w.Code, w.Body)
	}
	if code, _, _ := call(t, open, "GET", "/api/rooms", "", ""); code != 200 {
		t.Errorf("no token, loopback: %d, want 200", code)
	}
	if code, _, _ := call(t, open, "GET", "/healthz", "", ""); code != 200 {
		t.Errorf("healthz: %d", code)
	}

	_, locked, _, _ := setup(t, "s3cret")
	for _, auth := range []string{"", "Bearer wrong", "Basic s3cret", "Bearer s3cret "} {
		if code, _, _ := call(t, locked, "GET", "/api/rooms", "", "", "Authorization", auth); code != 401 {
			t.Errorf("Authorization %q: %d, want 401", auth, code)
		}
	}
	if code, _, _ := call(t, locked, "GET", "/api/rooms", "", "", "Authorization", "Bearer s3cret"); code != 200 {
		t.Errorf("right token: %d, want 200", code)
	}
}

func TestRefusedRequestsChangeNothing(t *testing.T) {
	b, h, parts, _ := setup(t, "")
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
		{"dial bad uri", "POST", "/api/rooms/r/dial", "application/json", `{"uri":"http://x"}`, 400},
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
	b, h, parts, legs := setup(t, "")
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
	if code, m, _ := call(t, h, "POST", "/api/rooms/r/mute-all", "", ""); code != 200 || m["muted"] != float64(2) {
		t.Errorf("mute-all: %d %v (the coach stays unmuted)", code, m)
	}
	st, _ := b.RoomState("r")
	for _, p := range st.Participants {
		if want := p.ID != a; p.Muted != want {
			t.Errorf("after mute-all %s muted=%v", p.Name, p.Muted)
		}
	}
	if code, _, _ := call(t, h, "DELETE", "/api/rooms/r/participants/"+c, "", ""); code != 204 {
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
	b, h, parts, _ := setup(t, "")
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/rooms/r/events")
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
