package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"confd/bridge"
	"confd/internal/api"
	"confd/internal/guard"
	"confd/testkit"
)

// fakePeer answers a node's GET DeclarationsPath with decls, as a node's Router does, and
// takes POST CatchUpPath (counted in nudged), checking that it was asked as a node, with the
// token.
func fakePeer(t *testing.T, nudged *atomic.Int32, decls ...Declaration) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get(LocalHeader) == "":
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == DeclarationsPath:
			_ = json.NewEncoder(w).Encode(decls)
		case r.URL.Path == CatchUpPath && r.Method == http.MethodPost:
			nudged.Add(1)
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// countingPeer is another node's HTTP side that answers every request with status and counts
// the requests it got.
func countingPeer(t *testing.T, status int) (*httptest.Server, *atomic.Int32) {
	var asked atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		w.WriteHeader(status)
	}))
	t.Cleanup(s.Close)
	return s, &asked
}

// nodesWithPeers is node a of a cluster of a and one node per peer (b, c, …), whose HTTP side
// is that test server.
func nodesWithPeers(peers ...*httptest.Server) *Nodes {
	nodes := []Node{{Name: "a", SIP: netip.MustParseAddrPort("127.0.0.11:5060"), HTTP: "127.0.0.11:1"}}
	for i, p := range peers {
		nodes = append(nodes, Node{Name: string(rune('b' + i)), SIP: netip.MustParseAddrPort(fmt.Sprintf("127.0.0.%d:5060", 12+i)),
			HTTP: strings.TrimPrefix(p.URL, "http://")})
	}
	return NewNodes(Config{Self: "a", Nodes: nodes})
}

// ownedBy returns a room named room0, room1, … that node owns among a, b and c.
func ownedBy(node string) string {
	probe := threeNodes("a")
	for i := 0; ; i++ {
		if r := fmt.Sprintf("room%d", i); probe.Owner(r).Name == node {
			return r
		}
	}
}

// TestCatchUpConvergesOnTheNewestChange: node a, back after missing changes, ends with the
// cluster's declarations, room by room the newest change among its own and b's and c's: a room
// deleted while it was away is undeclared (the call in it goes on, as in a deleted room on the
// node where it was deleted, and the room is forgotten when the call ends); a PIN changed twice
// is the later one's, whoever holds it; a config file's room (no time) that a lacks is taken,
// one it has is kept, and a tie between two others' goes to the owner's; a room declared here
// after the others' changes (while a was alone) stays, and b and c, which lack some of these
// changes, are told to catch up; the tombstones a learnt it passes on.
// With every other node down it reports ErrNoPeer, for a later try.
func TestCatchUpConvergesOnTheNewestChange(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	ownedByB, ownedByC := ownedBy("b"), ownedBy("c")
	var bNudged, cNudged atomic.Int32
	b := fakePeer(t, &bNudged,
		Declaration{Room: "deleted", Changed: at(2)},
		Declaration{Room: "repinned", Declared: true, Settings: bridge.RoomSettings{PIN: "2222"}, Changed: at(3)},
		Declaration{Room: "fromfile", Declared: true, Settings: bridge.RoomSettings{PIN: "9"}},
		Declaration{Room: "kept", Declared: true, Settings: bridge.RoomSettings{PIN: "8"}},
		Declaration{Room: ownedByB, Declared: true, Settings: bridge.RoomSettings{Limit: 2}},
		Declaration{Room: ownedByC, Declared: true, Settings: bridge.RoomSettings{Limit: 2}},
		Declaration{Room: "alone", Changed: at(1)},
	)
	c := fakePeer(t, &cNudged,
		Declaration{Room: "repinned", Declared: true, Settings: bridge.RoomSettings{PIN: "3333"}, Changed: at(2)},
		Declaration{Room: ownedByB, Declared: true, Settings: bridge.RoomSettings{Limit: 3}},
		Declaration{Room: ownedByC, Declared: true, Settings: bridge.RoomSettings{Limit: 3}},
	)
	nodes := nodesWithPeers(b, c)
	br := bridge.New(bridge.Config{Rooms: map[string]bridge.RoomSettings{
		"deleted": {}, "repinned": {PIN: "1111"}, "kept": {PIN: "7"}, "alone": {Locked: true},
	}})
	defer br.Close()
	nodes.Changed("repinned", true, at(1))
	nodes.Changed("alone", true, at(5))
	ada := join(t, br, "deleted", bridge.ParticipantInfo{Kind: "sip", Name: "Ada"})

	got, err := nodes.CatchUp(context.Background(), br, http.DefaultClient, "tok")
	if err != nil || got.Declared != 4 || got.Undeclared != 1 || len(got.Failed) != 0 {
		t.Fatalf("CatchUp: %+v, %v; want 4 declared (repinned, fromfile, the two tied), 1 undeclared", got, err)
	}
	if bNudged.Load() != 1 || cNudged.Load() != 1 || len(got.Behind) != 2 {
		t.Errorf("b told to catch up %d times, c %d (%q); want each once (b lacks alone's declaration, c the deletion)", bNudged.Load(), cNudged.Load(), got.Behind)
	}
	want := map[string]bridge.RoomSettings{
		"repinned": {PIN: "2222"}, "fromfile": {PIN: "9"}, "kept": {PIN: "7"}, "alone": {Locked: true},
		ownedByB: {Limit: 2}, ownedByC: {Limit: 3},
	}
	declared := br.Declared()
	if len(declared) != len(want) {
		t.Errorf("declared %v, want %v", declared, want)
	}
	for room, s := range want {
		if g, ok := declared[room]; !ok || g.PIN != s.PIN || g.Limit != s.Limit || g.Locked != s.Locked {
			t.Errorf("%s: declared %v with %+v, want %+v", room, ok, g, s)
		}
	}
	st, err := br.RoomState("deleted")
	if err != nil || st.Declared || len(st.Participants) != 1 {
		t.Errorf("the deleted room with Ada in it: %+v, %v; want it going on, undeclared, with Ada", st, err)
	}
	ada.Leave("hangup")
	testkit.Eventually(t, 5*time.Second, "the deleted room outlived its last call", func() bool { _, err := br.RoomState("deleted"); return err != nil })

	passed := map[string]Declaration{}
	for _, d := range nodes.Declarations(br) {
		passed[d.Room] = d
	}
	if d := passed["deleted"]; d.Declared || !d.Changed.Equal(at(2)) {
		t.Errorf("a passes on %+v for the deleted room, want b's tombstone", d)
	}
	if d := passed["repinned"]; !d.Changed.Equal(at(3)) {
		t.Errorf("a passes on %+v for repinned, want the time of b's change", d)
	}

	nodes.SetUp("b", false)
	nodes.SetUp("c", false)
	if _, err := nodes.CatchUp(context.Background(), br, http.DefaultClient, "tok"); !errors.Is(err, ErrNoPeer) {
		t.Errorf("every other node down: %v, want ErrNoPeer", err)
	}
}

// TestRouterStampsAndRecordsDeclarations: a room declared and deleted through a node reaches
// the other nodes with the time it was made there, which each records (its catch-up list has
// it); the nodes' own API wants the token and LocalHeader.
func TestRouterStampsAndRecordsDeclarations(t *testing.T) {
	var copies []string
	var stamps []time.Time
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		copies = append(copies, r.Method+" "+r.URL.Path)
		at, err := time.Parse(time.RFC3339Nano, r.Header.Get(ChangedHeader))
		if err != nil {
			t.Errorf("%s %s: %s %q: %v", r.Method, r.URL.Path, ChangedHeader, r.Header.Get(ChangedHeader), err)
		}
		stamps = append(stamps, at)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer peer.Close()
	nodes := nodesWithPeers(peer)
	b := bridge.New(bridge.Config{})
	defer b.Close()
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/api/rooms/")
		if r.Method == http.MethodPut {
			_ = b.Declare(name, bridge.RoomSettings{PIN: "1"})
		} else if b.Undeclare(name) != nil {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	rt := NewRouter(nodes, b, api, "tok", nil)
	do := func(method, path string, header ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader("{}"))
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, req)
		return w
	}
	listed := func() map[string]Declaration {
		w := do("GET", DeclarationsPath, "Authorization", "Bearer tok", LocalHeader, "b")
		var list []Declaration
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &list) != nil {
			t.Fatalf("GET %s: %d %s", DeclarationsPath, w.Code, w.Body)
		}
		out := map[string]Declaration{}
		for _, d := range list {
			out[d.Room] = d
		}
		return out
	}

	before := time.Now()
	do("PUT", "/api/rooms/r1", "Authorization", "Bearer tok")
	if len(copies) != 1 || copies[0] != "PUT /api/rooms/r1" || stamps[0].Before(before) {
		t.Fatalf("b got %q stamped %v", copies, stamps)
	}
	if d := listed()["r1"]; !d.Declared || !d.Changed.Equal(stamps[0]) || d.Settings.PIN != "1" {
		t.Errorf("a lists %+v for r1, want it declared at %v, the time b was told", d, stamps[0])
	}
	deleted := time.Now().Add(30 * time.Second) // b's clock a little ahead
	do("DELETE", "/api/rooms/r1", "Authorization", "Bearer tok", LocalHeader, "b", ChangedHeader, deleted.Format(time.RFC3339Nano))
	if len(copies) != 1 {
		t.Errorf("another node's copy was copied again: %q", copies)
	}
	if d := listed()["r1"]; d.Declared || !d.Changed.Equal(deleted) {
		t.Errorf("a lists %+v for r1, want the tombstone of b's time", d)
	}
	if w := do("DELETE", "/api/rooms/r2", "Authorization", "Bearer tok"); w.Code != http.StatusNotFound || listed()["r2"].Room != "" {
		t.Errorf("a refused DELETE: %d, recorded %+v", w.Code, listed()["r2"])
	}
	for _, h := range [][]string{nil, {"Authorization", "Bearer tok"}, {LocalHeader, "b"}, {"Authorization", "Bearer bad", LocalHeader, "b"}} {
		if w := do("GET", DeclarationsPath, h...); w.Code != http.StatusUnauthorized {
			t.Errorf("GET %s with %q: %d, want 401", DeclarationsPath, h, w.Code)
		}
	}
}

// TestCatchUpKeepsAChangeMadeMeanwhile: a catch-up that found a peer's change newer than this
// node's declaration does not put it over a later change made through the API here while the
// catch-up ran; one older than the peer's is replaced.
func TestCatchUpKeepsAChangeMadeMeanwhile(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	nodes := threeNodes("a")
	br := bridge.New(bridge.Config{})
	defer br.Close()
	before := Declaration{Room: "r", Declared: true, Settings: bridge.RoomSettings{PIN: "1"}, Changed: t0}
	_ = br.Declare("r", before.Settings)
	nodes.Changed("r", true, t0)
	// The API changes the room (at t0+3) after the catch-up read this node's declarations.
	_ = br.Declare("r", bridge.RoomSettings{PIN: "3"})
	nodes.Changed("r", true, t0.Add(3*time.Minute))
	var caught Caught
	nodes.apply(br, Declaration{Room: "r", Changed: t0.Add(2 * time.Minute)}, before, &caught)
	if s, ok := br.Declared()["r"]; !ok || s.PIN != "3" || caught.Undeclared != 0 {
		t.Errorf("after a catch-up of an older deletion: declared %v with %+v (%+v); want the API's PIN 3", ok, s, caught)
	}
	nodes.apply(br, Declaration{Room: "r", Changed: t0.Add(4 * time.Minute)}, before, &caught)
	if _, ok := br.Declared()["r"]; ok || caught.Undeclared != 1 {
		t.Errorf("after a catch-up of a later deletion: declared %v (%+v), want it undeclared", ok, caught)
	}
}

// TestACopyFromTheFutureDoesNotPinARoom: a node's copy of a change stamped far ahead of this
// node's clock (a node whose clock is wrong, or a forged ChangedHeader) is recorded as made
// when it arrived: else every later change of the room, made anywhere, would be older, and
// catching up would put the stale settings back on every node until that date.
func TestACopyFromTheFutureDoesNotPinARoom(t *testing.T) {
	br := bridge.New(bridge.Config{})
	defer br.Close()
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = br.Declare(strings.TrimPrefix(r.URL.Path, "/api/rooms/"), bridge.RoomSettings{PIN: "1"})
		w.WriteHeader(http.StatusNoContent)
	})
	var nudged atomic.Int32
	later := Declaration{Room: "r", Declared: true, Settings: bridge.RoomSettings{PIN: "2"}}
	peerB := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case DeclarationsPath:
			_ = json.NewEncoder(w).Encode([]Declaration{later})
		case CatchUpPath:
			nudged.Add(1)
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer peerB.Close()
	nodes := nodesWithPeers(peerB, fakePeer(t, &nudged))
	rt := NewRouter(nodes, br, api, "tok", nil)
	req := httptest.NewRequest("PUT", "/api/rooms/r", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer tok")
	req.Header.Set(LocalHeader, "b")
	req.Header.Set(ChangedHeader, time.Now().AddDate(5, 0, 0).Format(time.RFC3339Nano))
	rt.ServeHTTP(httptest.NewRecorder(), req)
	later.Changed = time.Now().Add(time.Second) // the room changed again on b, a moment later
	if _, err := nodes.CatchUp(context.Background(), br, http.DefaultClient, "tok"); err != nil {
		t.Fatal(err)
	}
	if s := br.Declared()["r"]; s.PIN != "2" {
		t.Errorf("after catching up, r has PIN %q, want b's later change (2)", s.PIN)
	}
}

// countingBody is a request body of n bytes that counts what is read of it.
type countingBody struct {
	left, read int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n > c.left {
		n = c.left
	}
	for i := range p[:n] {
		p[i] = ' '
	}
	c.left -= n
	c.read += n
	return int(n), nil
}

func (c *countingBody) Close() error { return nil }

// TestDeclarationChecksTheTokenBeforeTheBody (review finding 10): a room's declaration through
// the cluster's router is refused for a missing or wrong token before a byte of its body is
// buffered, as the API itself refuses it, and a body over the one cap (guard.MaxBodyBytes) is
// answered 413 saying the cap, not handed on half read; neither reaches the other nodes.
func TestDeclarationChecksTheTokenBeforeTheBody(t *testing.T) {
	peer, copies := countingPeer(t, http.StatusNoContent)
	b := bridge.New(bridge.Config{})
	defer b.Close()
	rt := NewRouter(nodesWithPeers(peer), b, api.New(b, api.Config{Token: "tok"}, nil), "tok", nil)
	put := func(auth string, size int64) (int, string, int64) {
		body := &countingBody{left: size}
		req := httptest.NewRequest("PUT", "/api/rooms/r1", nil)
		req.Body, req.ContentLength = body, size
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, req)
		var p struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(w.Body.Bytes(), &p)
		return w.Code, p.Error, body.read
	}
	over := int64(guard.MaxBodyBytes) + 1
	for _, auth := range []string{"", "Bearer wrong"} {
		if code, _, read := put(auth, over); code != http.StatusUnauthorized || read != 0 {
			t.Errorf("PUT with Authorization %q: %d after reading %d bytes, want 401 having read none", auth, code, read)
		}
	}
	code, says, read := put("Bearer tok", over)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(says, strconv.Itoa(guard.MaxBodyBytes)) || read > over {
		t.Errorf("PUT of %d bytes with the token: %d %q, want 413 saying the cap", over, code, says)
	}
	if _, err := b.RoomState("r1"); err == nil {
		t.Error("a refused declaration declared the room")
	}
	if n := copies.Load(); n != 0 {
		t.Errorf("%d refused declarations were copied to the other node", n)
	}
}
