package cluster

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"confd/bridge"
)

// ownedHereAndElsewhere returns a room that node self owns and one that another node owns,
// named prefix and a number: it tries prefix0, prefix1, … until it has both, each the last of
// its kind tried.
func ownedHereAndElsewhere(nodes *Nodes, self, prefix string) (local, remote string) {
	for i := 0; remote == "" || local == ""; i++ {
		r := fmt.Sprintf("%s%d", prefix, i)
		if nodes.Owner(r).Name == self {
			local = r
		} else {
			remote = r
		}
	}
	return local, remote
}

func threeNodes(self string) *Nodes {
	return NewNodes(Config{Self: self, Nodes: []Node{
		{Name: "a", SIP: netip.MustParseAddrPort("127.0.0.11:5060"), HTTP: "127.0.0.11:8080"},
		{Name: "b", SIP: netip.MustParseAddrPort("127.0.0.12:5060"), HTTP: "127.0.0.12:8080"},
		{Name: "c", SIP: netip.MustParseAddrPort("127.0.0.13:5060"), HTTP: "127.0.0.13:8080"},
	}})
}

// TestOwnersAgreeSpreadAndMoveOnlyWithTheirNode: every node computes the same owner of a room;
// a thousand rooms spread over the three nodes; when a node goes down only its rooms move, and
// when every node is down the owner is still one of them.
func TestOwnersAgreeSpreadAndMoveOnlyWithTheirNode(t *testing.T) {
	a, b := threeNodes("a"), threeNodes("b")
	count := map[string]int{}
	before := map[string]string{}
	for i := range 1000 {
		room := fmt.Sprintf("room-%d", i)
		oa, ob := a.Owner(room), b.Owner(room)
		if oa.Name != ob.Name {
			t.Fatalf("%s: node a says %s owns it, node b %s", room, oa.Name, ob.Name)
		}
		count[oa.Name]++
		before[room] = oa.Name
	}
	for _, n := range []string{"a", "b", "c"} {
		if count[n] < 250 {
			t.Errorf("node %s owns %d of 1000 rooms: %v", n, count[n], count)
		}
	}
	a.SetUp("c", false)
	for room, was := range before {
		now := a.Owner(room).Name
		if now == "c" || (was != "c" && now != was) {
			t.Fatalf("%s: owner %s before c left, %s after", room, was, now)
		}
	}
	a.SetUp("a", false)
	a.SetUp("b", false)
	if o := a.Owner("x").Name; o == "" {
		t.Error("no owner with every node down")
	}
}

// TestIsNodeChecksTheNamedNodesAddress: a cascade is accepted only from the named node's own
// address, never in this node's name.
func TestIsNodeChecksTheNamedNodesAddress(t *testing.T) {
	n := threeNodes("a")
	for _, tc := range []struct {
		src, name string
		want      bool
	}{{"127.0.0.12", "b", true}, {"127.0.0.12", "c", false}, {"127.0.0.1", "b", false}, {"127.0.0.11", "a", false}, {"127.0.0.12", "zz", false}} {
		if got := n.IsNode(mustAddr(t, tc.src), tc.name); got != tc.want {
			t.Errorf("IsNode(%s, %s) = %v, want %v", tc.src, tc.name, got, tc.want)
		}
	}
}

// TestRouterForwardsToTheOwner: a request about a room owned by another node goes there,
// marked so that it is not forwarded again; one about a room owned here, or already
// forwarded, is answered here.
func TestRouterForwardsToTheOwner(t *testing.T) {
	var got []string
	owner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get(LocalHeader)+" "+r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusTeapot)
	}))
	defer owner.Close()
	rt, local, remote := routerBeside(t, owner, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }), "t")
	do := func(path string, forwarded bool) int {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer t")
		if forwarded {
			req.Header.Set(LocalHeader, "b")
		}
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, req)
		return w.Code
	}
	if c := do("/api/rooms/"+remote+"/participants", false); c != http.StatusTeapot {
		t.Errorf("room owned by b: %d, want the owner's answer", c)
	}
	if len(got) != 1 || got[0] != "GET /api/rooms/"+remote+"/participants a Bearer t" {
		t.Errorf("the owner got %q", got)
	}
	if c := do("/api/rooms/"+local, false); c != http.StatusNoContent {
		t.Errorf("room owned here: %d, want this node's answer", c)
	}
	if c := do("/api/rooms/"+remote, true); c != http.StatusNoContent {
		t.Errorf("a forwarded request: %d, want this node's answer (never forwarded twice)", c)
	}
}

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	return netip.MustParseAddr(s)
}

// routerBeside is node a's Router, with here as its own API and token as the API token, in a
// cluster of a and node b, the test server other; local is a room a owns, remote one b owns.
func routerBeside(t *testing.T, other *httptest.Server, here http.Handler, token string) (rt *Router, local, remote string) {
	t.Helper()
	nodes := nodesWithPeers(other)
	local, remote = ownedHereAndElsewhere(nodes, "a", "r")
	b := bridge.New(bridge.Config{})
	t.Cleanup(b.Close)
	return NewRouter(nodes, b, here, token, nil), local, remote
}
