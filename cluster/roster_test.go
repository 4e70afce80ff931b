package cluster

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRosterSearchNeedsTheAPIToken: a request about a participant this node does not hold makes
// it ask the other nodes for their rosters only when it carries the API token (the one token
// that may act on a participant); a stranger's requests, however many, cost no other node a
// request for a room this node owns.
func TestRosterSearchNeedsTheAPIToken(t *testing.T) {
	other, asked := countingPeer(t, http.StatusNotFound)
	rt, local, _ := routerBeside(t, other, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) }), "secret")
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

// TestRoomTokenInTheQueryGoesToTheOwner: a page reads its room with the room token as ?token=
// (an EventSource cannot set a header); when the room's owner is another node, the token goes
// with the request there. It was dropped, and the owner answered 401.
func TestRoomTokenInTheQueryGoesToTheOwner(t *testing.T) {
	var got atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.URL.RawQuery)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer other.Close()
	rt, _, remote := routerBeside(t, other, http.NotFoundHandler(), "secret")
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, httptest.NewRequest("GET", "/api/rooms/"+remote+"?token=rt1.abc&other=x", nil))
	if q, _ := got.Load().(string); q != "token=rt1.abc" {
		t.Fatalf("the owner was asked with query %q, want the token alone", q)
	}
}
