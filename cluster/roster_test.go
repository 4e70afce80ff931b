package cluster

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"confd/bridge"
)

// TestRosterSearchNeedsTheAPIToken: a request about a participant this node does not hold makes
// it ask the other nodes for their rosters only when it carries the API token (the one token
// that may act on a participant); a stranger's requests, however many, cost no other node a
// request for a room this node owns.
func TestRosterSearchNeedsTheAPIToken(t *testing.T) {
	var asked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		w.WriteHeader(http.StatusNotFound)
	}))
	defer other.Close()
	nodes := nodesWithPeers(other)
	local, _ := ownedHereAndElsewhere(nodes, "a", "r")
	b := bridge.New(bridge.Config{})
	defer b.Close()
	here := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	rt := NewRouter(nodes, b, here, "secret", nil)
	patch := func(token string) int {
		req := httptest.NewRequest("PATCH", "/api/rooms/"+local+"/participants/01ABC", strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, req)
		return w.Code
	}
	for range 100 {
		if c := patch("guess"); c != http.StatusUnauthorized {
			t.Fatalf("a wrong token: %d, want this node's 401", c)
		}
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("100 requests with a wrong token made node b answer %d requests, want none", n)
	}
	patch("secret")
	if n := asked.Load(); n != 1 {
		t.Errorf("a request with the API token asked node b %d times, want once (where is the participant?)", n)
	}
}
