package cluster

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
)

// clusterPrefix is where the nodes' own API lives: requests one node makes of another, never
// a client's, answered by the Router itself (not forwarded, not in openapi.json). They carry
// the API token, which the nodes share, and LocalHeader.
const clusterPrefix = "/api/cluster/"

// serveCluster answers the nodes' own API: DeclarationsPath (catching up) and SeatsPath (a
// room's limit across nodes).
func (rt *Router) serveCluster(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if rt.token == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(rt.token)) != 1 || r.Header.Get(LocalHeader) == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="confd"`)
		writeProblem(w, http.StatusUnauthorized, "a node's request needs the API token and "+LocalHeader)
		return
	}
	switch {
	case r.URL.Path == DeclarationsPath && r.Method == http.MethodGet:
		rt.nodes.ServeDeclarations(w, rt.bridge)
	default:
		writeProblem(w, http.StatusNotFound, "no such route of the nodes' own API")
	}
}

// writeProblem answers an error as the API does: JSON with "error".
func writeProblem(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
