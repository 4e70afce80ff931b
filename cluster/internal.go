package cluster

import (
	"confd/internal/guard"
	"confd/problem"
	"encoding/json"
	"net/http"
)

// clusterPrefix is where the nodes' own API lives: requests one node makes of another, never
// a client's, answered by the Router itself (not forwarded, not in openapi.json). They carry
// the API token, which the nodes share, and LocalHeader.
const clusterPrefix = "/api/cluster/"

// serveCluster answers the nodes' own API: DeclarationsPath and CatchUpPath (catching up),
// SeatsPath (a room's limit across nodes) and NodesPath (who is up).
func (rt *Router) serveCluster(w http.ResponseWriter, r *http.Request) {
	if !rt.hasAPIToken(r) || r.Header.Get(LocalHeader) == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="confd"`)
		problem.Write(w, http.StatusUnauthorized, "a node's request needs the API token and "+LocalHeader)
		return
	}
	switch {
	case r.URL.Path == DeclarationsPath && r.Method == http.MethodGet:
		rt.nodes.ServeDeclarations(w, rt.bridge)
	case r.URL.Path == SeatsPath && r.Method == http.MethodPost && rt.seats != nil:
		rt.seats.serve(w, r)
	case r.URL.Path == SeatsPath && r.Method == http.MethodGet && rt.seats != nil:
		rt.seats.count(w, r)
	case r.URL.Path == NodesPath && r.Method == http.MethodGet:
		rt.serveNodes(w)
	case r.URL.Path == CatchUpPath && r.Method == http.MethodPost:
		rt.nodes.Nudge()
		w.WriteHeader(http.StatusNoContent)
	default:
		problem.Write(w, http.StatusNotFound, "no such route of the nodes' own API")
	}
}

// NodesPath is the API path at which a node tells which nodes it sees up (GET: a list of
// NodeState), the view its owners and seats follow.
const NodesPath = "/api/cluster/nodes"

// NodeState is one node as another sees it.
type NodeState struct {
	Name string `json:"name"`
	Up   bool   `json:"up"`
	Self bool   `json:"self,omitempty"`
}

func (rt *Router) serveNodes(w http.ResponseWriter) {
	out := []NodeState{}
	for _, n := range rt.nodes.All() {
		out = append(out, NodeState{Name: n.Name, Up: rt.nodes.Up(n.Name), Self: n.Name == rt.nodes.Self()})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// hasAPIToken reports whether r carries the API token, which the nodes share (compared in
// constant time).
func (rt *Router) hasAPIToken(r *http.Request) bool {
	tok, _ := guard.BearerToken(r)
	return guard.SecretMatches(tok, rt.token)
}
