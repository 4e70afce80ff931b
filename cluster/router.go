package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"confd/bridge"
	"confd/internal/guard"
	"confd/problem"
)

// LocalHeader marks an API request one node makes of another: the receiver answers it from its
// own state, never forwarding it again, so no request goes round the cluster.
const LocalHeader = "X-Confd-Local"

// peerTimeout bounds a node's wait for another's room list.
const peerTimeout = 2 * time.Second

// RoomSummary is one entry of GET /api/rooms in a cluster: bridge.RoomSummary with the owner.
type RoomSummary struct {
	Room string `json:"room"`
	// Participants counts people, not cascade legs, over every node.
	Participants int    `json:"participants"`
	Owner        string `json:"owner"`
}

// Router is the API in a cluster: a request about a room owned by another node is forwarded
// to it (except one about a participant on this node), a room's declaration (PUT or DELETE
// /api/rooms/ROOM) is applied on every node, and GET /api/rooms lists every node's rooms with
// their owner. Everything else goes to next, which also checks the token of every
// request: nodes share one API token, which forwarded requests carry.
type Router struct {
	nodes  *Nodes
	bridge *bridge.Bridge
	next   http.Handler
	client *http.Client
	token  string // the API token, which the nodes' own requests (/api/cluster/) carry
	seats  *Seats // the owner's side of rooms' limits across nodes (SeatsPath); nil: none

	mu      sync.Mutex
	proxies map[string]*httputil.ReverseProxy
}

// NewRouter returns the cluster's API in front of next, the node's own API, whose token is
// token; seats, when not nil, takes the other nodes' reports of their people (SeatsPath).
func NewRouter(nodes *Nodes, b *bridge.Bridge, next http.Handler, token string, seats *Seats) *Router {
	return &Router{nodes: nodes, bridge: b, next: next, client: &http.Client{Timeout: peerTimeout}, token: token,
		seats: seats, proxies: map[string]*httputil.ReverseProxy{}}
}

func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	local := r.Header.Get(LocalHeader) != ""
	if strings.HasPrefix(r.URL.Path, clusterPrefix) {
		rt.serveCluster(w, r)
		return
	}
	if r.URL.Path == "/api/rooms" && r.Method == http.MethodGet {
		rt.listRooms(w, r, local)
		return
	}
	room, participant := roomOf(r.URL.Path)
	if room == "" || !bridge.ValidRoomName(room) {
		rt.next.ServeHTTP(w, r)
		return
	}
	if r.URL.Path == "/api/rooms/"+room && (r.Method == http.MethodPut || r.Method == http.MethodDelete) {
		rt.declare(w, r, room, local)
		return
	}
	if local {
		rt.next.ServeHTTP(w, r)
		return
	}
	// A room's people on every node, as one room (roster.go). Only the API token may act on a
	// participant, so only it makes this node ask the others where one is: a stranger's
	// request costs the cluster one forwarded request, as before, not one per node.
	if participant != "" && rt.hasAPIToken(r) && !rt.hasParticipant(room, participant) {
		if n, ok := rt.holder(r, room, participant); ok {
			r.Header.Set(LocalHeader, rt.nodes.Self())
			rt.proxy(n).ServeHTTP(w, r)
			return
		}
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/rooms/"+room:
		rt.getRoom(w, r, room)
		return
	case r.Method == http.MethodPost && r.URL.Path == "/api/rooms/"+room+"/mute-all":
		rt.muteAll(w, r, room)
		return
	}
	owner := rt.nodes.Owner(room)
	if owner.Name == rt.nodes.Self() || rt.hasParticipant(room, participant) {
		rt.next.ServeHTTP(w, r)
		return
	}
	r.Header.Set(LocalHeader, rt.nodes.Self())
	rt.proxy(owner).ServeHTTP(w, r)
}

// declare applies PUT or DELETE /api/rooms/ROOM here (which checks the body and answers the
// client) and records when (declared.go), then, when it succeeded and came from a client (not
// local, another node's copy), on every other node that is up: a room's settings (PIN, locked,
// limit) must hold on whichever node a caller lands, since a cascade from that node is let in
// without the PIN. A node down at the time catches up when it is back (Nodes.CatchUp).
//
// The body is buffered to be copied, so the token is checked first, as the API checks it before
// reading a body: a request without it goes to the node's own API to be refused, and costs no
// buffer. A body over guard.MaxBodyBytes is 413 here, not handed on half read.
func (rt *Router) declare(w http.ResponseWriter, r *http.Request, room string, local bool) {
	if !rt.hasAPIToken(r) {
		rt.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, guard.MaxBodyBytes))
	if err != nil {
		if !problem.TooLarge(w, err) {
			problem.Write(w, http.StatusBadRequest, "the body could not be read: "+err.Error())
		}
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	at := time.Now()
	if local {
		if t, err := time.Parse(time.RFC3339Nano, r.Header.Get(ChangedHeader)); err == nil && t.Before(at.Add(maxStampAhead)) {
			at = t
		}
	}
	rec := httptest.NewRecorder()
	rt.nodes.applyMu.Lock()
	rt.next.ServeHTTP(rec, r)
	if rec.Code < 300 {
		rt.nodes.Changed(room, r.Method == http.MethodPut, at)
	}
	rt.nodes.applyMu.Unlock()
	replay(w, rec)
	if rec.Code >= 300 || local {
		return
	}
	for _, n := range rt.nodes.All() {
		if n.Name == rt.nodes.Self() || !rt.nodes.Up(n.Name) {
			continue
		}
		req, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+n.HTTP+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			continue
		}
		for _, h := range []string{"Authorization", "Content-Type", "Origin"} {
			if v := r.Header.Get(h); v != "" {
				req.Header.Set(h, v)
			}
		}
		req.Host = r.Host // the same origin as the client's request
		req.Header.Set(LocalHeader, rt.nodes.Self())
		req.Header.Set(ChangedHeader, at.Format(time.RFC3339Nano))
		resp, err := rt.client.Do(req)
		if err != nil {
			continue
		}
		resp.Body.Close()
	}
}

// replay answers with what the node's own API answered into rec.
func replay(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// roomOf returns ROOM and, when named, ID of /api/rooms/ROOM[/participants/ID[/...]].
func roomOf(path string) (room, participant string) {
	rest, ok := strings.CutPrefix(path, "/api/rooms/")
	if !ok {
		return "", ""
	}
	parts := strings.Split(rest, "/")
	if len(parts) >= 3 && parts[1] == "participants" {
		participant = parts[2]
	}
	return parts[0], participant
}

func (rt *Router) hasParticipant(room, id string) bool {
	if id == "" {
		return false
	}
	r, ok := rt.bridge.Room(room)
	if !ok {
		return false
	}
	_, err := r.Participant(id)
	return err == nil
}

func (rt *Router) proxy(n Node) *httputil.ReverseProxy {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	p := rt.proxies[n.Name]
	if p == nil {
		p = httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: n.HTTP})
		p.FlushInterval = -1 // server-sent events pass at once
		rt.proxies[n.Name] = p
	}
	return p
}

// listRooms answers GET /api/rooms: this node's rooms (the node's own API answers first, which
// checks the token), then, unless another node asked,
// every other node's that is up, merged by room with the owner of each.
func (rt *Router) listRooms(w http.ResponseWriter, r *http.Request, local bool) {
	rec := httptest.NewRecorder()
	rt.next.ServeHTTP(rec, r)
	var mine []bridge.RoomSummary
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &mine) != nil {
		replay(w, rec)
		return
	}
	byRoom := map[string]*RoomSummary{}
	add := func(s RoomSummary) {
		if e := byRoom[s.Room]; e != nil {
			e.Participants += s.Participants
			return
		}
		s.Owner = rt.nodes.Owner(s.Room).Name
		byRoom[s.Room] = &s
	}
	for _, s := range mine {
		add(RoomSummary{Room: s.Room, Participants: s.Participants}) // people: the bridge counts no cascade
	}
	if !local {
		for _, s := range rt.peerRooms(r.Context(), r.Header.Get("Authorization")) {
			add(s)
		}
	}
	out := make([]RoomSummary, 0, len(byRoom))
	for _, s := range byRoom {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b RoomSummary) int { return strings.Compare(a.Room, b.Room) })
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// peerRooms asks every other node that is up for its own rooms, at once.
func (rt *Router) peerRooms(ctx context.Context, auth string) []RoomSummary {
	var (
		mu  sync.Mutex
		out []RoomSummary
		wg  sync.WaitGroup
	)
	for _, n := range rt.nodes.All() {
		if n.Name == rt.nodes.Self() || !rt.nodes.Up(n.Name) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.HTTP+"/api/rooms", nil)
			if err != nil {
				return
			}
			req.Header.Set("Authorization", auth)
			req.Header.Set(LocalHeader, rt.nodes.Self())
			resp, err := rt.client.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			var b bytes.Buffer
			_, _ = b.ReadFrom(http.MaxBytesReader(nil, resp.Body, maxPeerBody))
			var list []RoomSummary
			if resp.StatusCode != http.StatusOK || json.Unmarshal(b.Bytes(), &list) != nil {
				return
			}
			mu.Lock()
			out = append(out, list...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}
