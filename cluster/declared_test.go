package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"confd/bridge"
	"confd/internal/config"
)

// fakePeer answers a node's GET /api/rooms and GET /api/rooms/ROOM from rooms (declared with
// their settings) and undeclared (rooms with people only), as a node's own API does, and checks
// that it was asked as a node, with the token.
func fakePeer(t *testing.T, rooms map[string]bridge.RoomSettings, undeclared ...string) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get(LocalHeader) == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/api/rooms" {
			var list []bridge.RoomSummary
			for name := range rooms {
				list = append(list, bridge.RoomSummary{Room: name})
			}
			for _, name := range undeclared {
				list = append(list, bridge.RoomSummary{Room: name, Participants: 1})
			}
			_ = json.NewEncoder(w).Encode(list)
			return
		}
		name := strings.TrimPrefix(r.URL.Path, "/api/rooms/")
		st := bridge.RoomState{Room: name}
		if s, ok := rooms[name]; ok {
			st.Declared, st.Settings = true, s.Effective()
		}
		_ = json.NewEncoder(w).Encode(st)
	}))
	t.Cleanup(s.Close)
	return s
}

// TestCatchUpTakesDeclarationsFromTheOwner: node a, back after missing declarations, declares
// what b and c have declared, with each room's owner's settings (c's newer PIN over the stale
// one b kept), a room a owns with the settings of the node that listed it, and not a room that
// only has people; with every other node down it reports ErrNoPeer, for a later try.
func TestCatchUpTakesDeclarationsFromTheOwner(t *testing.T) {
	probe := NewNodes(config.Cluster{Self: "a", Nodes: []config.ClusterNode{{Name: "a"}, {Name: "b"}, {Name: "c"}}})
	ownedBy := func(node string) string {
		for i := 0; ; i++ {
			if r := fmt.Sprintf("room%d", i); probe.Owner(r).Name == node {
				return r
			}
		}
	}
	onC, onA := ownedBy("c"), ownedBy("a")
	b := fakePeer(t, map[string]bridge.RoomSettings{onC: {PIN: "1111"}, onA: {Locked: true}}, "adhoc")
	c := fakePeer(t, map[string]bridge.RoomSettings{onC: {PIN: "2222", Limit: 5}})
	nodes := NewNodes(config.Cluster{Self: "a", Nodes: []config.ClusterNode{
		{Name: "a", SIP: "127.0.0.11:5060", HTTP: "127.0.0.11:1"},
		{Name: "b", SIP: "127.0.0.12:5060", HTTP: strings.TrimPrefix(b.URL, "http://")},
		{Name: "c", SIP: "127.0.0.13:5060", HTTP: strings.TrimPrefix(c.URL, "http://")},
	}})
	br := bridge.New(bridge.Config{})
	defer br.Close()
	n, err := nodes.CatchUp(context.Background(), br, http.DefaultClient, "tok")
	if err != nil || n != 2 {
		t.Fatalf("CatchUp: %d rooms, %v; want 2", n, err)
	}
	declared := br.Declared()
	if s, ok := declared[onC]; !ok || s.PIN != "2222" || s.Limit != 5 {
		t.Errorf("%s, owned by c: declared %v with %+v, want c's PIN 2222 and limit 5", onC, ok, s)
	}
	if s, ok := declared[onA]; !ok || !s.Locked {
		t.Errorf("%s, owned by a: declared %v with %+v, want b's lock", onA, ok, s)
	}
	if _, ok := declared["adhoc"]; ok {
		t.Error("a room with people only was declared")
	}
	nodes.SetUp("b", false)
	nodes.SetUp("c", false)
	if _, err := nodes.CatchUp(context.Background(), br, http.DefaultClient, "tok"); !errors.Is(err, ErrNoPeer) {
		t.Errorf("every other node down: %v, want ErrNoPeer", err)
	}
}
