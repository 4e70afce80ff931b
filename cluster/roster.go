package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"

	"confd/problem"
)

// A room's people may be on several nodes, each call on the node it landed on; the API shows
// and controls them as one room, whichever node it is asked (README "Several nodes"):
//
//   - GET /api/rooms/ROOM answers the owner's state with every other node's people added to
//     its participants, each marked with "node", the node its call is on (the cascade legs stay,
//     each with the count of people behind it);
//   - a request about a participant (PATCH, DELETE, move, transfer) goes to the node that holds
//     it, found by asking the others for their own state of the room;
//   - POST /api/rooms/ROOM/mute-all mutes the room's people on every node and counts them all.
//
// The nodes are asked with the client's own Authorization, so each answers what that token may
// see (a participant's token sees callers' numbers redacted on every node alike).

// nodeState is one node's own state of a room: its JSON fields, with the participants apart.
type nodeState struct {
	fields       map[string]json.RawMessage
	participants []map[string]json.RawMessage
}

// localState returns node n's own state of room, asked as the client of r (n may be this
// node), and the answer's status and body; err is set when n did not answer.
func (rt *Router) localState(ctx context.Context, r *http.Request, n Node, room string) (st nodeState, status int, body []byte, err error) {
	path := "/api/rooms/" + room
	if n.Name == rt.nodes.Self() {
		rec := httptest.NewRecorder()
		req := r.Clone(ctx)
		req.URL.Path, req.URL.RawPath, req.Method = path, "", http.MethodGet
		rt.next.ServeHTTP(rec, req)
		status, body = rec.Code, rec.Body.Bytes()
	} else {
		resp, err := rt.askAs(ctx, r, n, http.MethodGet, path)
		if err != nil {
			return st, http.StatusBadGateway, nil, err
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(http.MaxBytesReader(nil, resp.Body, maxPeerBody))
		status, body = resp.StatusCode, b.Bytes()
	}
	if status != http.StatusOK || json.Unmarshal(body, &st.fields) != nil {
		return nodeState{}, status, body, nil
	}
	_ = json.Unmarshal(st.fields["participants"], &st.participants)
	return st, status, body, nil
}

// askAs sends a request of method for path to node n as the client of r: with its
// Authorization, Origin and Content-Type, marked as a node's own (LocalHeader) so that n answers from its own
// state.
func (rt *Router) askAs(ctx context.Context, r *http.Request, n Node, method, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+n.HTTP+path, nil)
	if err != nil {
		return nil, err
	}
	for _, h := range []string{"Authorization", "Origin", "Content-Type"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	if tok := r.URL.Query().Get("token"); tok != "" {
		// A page's room token may come as ?token= (an EventSource cannot set a header): it is
		// the credential, so it goes with the request; nothing else of the query does.
		req.URL.RawQuery = url.Values{"token": {tok}}.Encode()
	}
	req.Host = r.Host
	req.Header.Set(LocalHeader, rt.nodes.Self())
	return rt.client.Do(req)
}

// others calls f, at once for each, with every node that is up other than skip, and waits.
func (rt *Router) others(skip string, f func(n Node)) {
	var wg sync.WaitGroup
	for _, n := range rt.nodes.All() {
		if n.Name == skip || !rt.nodes.Up(n.Name) {
			continue
		}
		wg.Go(func() { f(n) })
	}
	wg.Wait()
}

// getRoom answers GET /api/rooms/ROOM for a client: the owner's state, with the people of every
// other node added, each with the node its call is on.
func (rt *Router) getRoom(w http.ResponseWriter, r *http.Request, room string) {
	owner := rt.nodes.Owner(room)
	st, status, body, err := rt.localState(r.Context(), r, owner, room)
	if err != nil {
		problem.Write(w, http.StatusBadGateway, fmt.Sprintf("the room's owner, node %s, did not answer", owner.Name))
		return
	}
	if status != http.StatusOK || st.fields == nil {
		// The owner's answer as it is: a refused token, an unknown room (another node may hold
		// people of it while it starts: they are not a room to show yet).
		ct := "application/json"
		if status != http.StatusOK {
			ct = problem.ContentType // the API refuses with a problem document
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return
	}
	var mu sync.Mutex
	rt.others(owner.Name, func(n Node) {
		their, status, _, _ := rt.localState(r.Context(), r, n, room)
		if status != http.StatusOK {
			return
		}
		name, _ := json.Marshal(n.Name)
		mu.Lock()
		defer mu.Unlock()
		for _, p := range their.participants {
			if string(p["cascade"]) == "true" {
				continue // this node's leg to the owner: the owner lists it from its side
			}
			p["node"] = name
			st.participants = append(st.participants, p)
		}
	})
	if st.participants == nil {
		st.participants = []map[string]json.RawMessage{}
	}
	st.fields["participants"], _ = json.Marshal(st.participants)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(st.fields)
}

// holder returns the node other than this one whose own state of room lists participant id.
func (rt *Router) holder(r *http.Request, room, id string) (Node, bool) {
	var (
		mu    sync.Mutex
		found Node
		ok    bool
	)
	want, _ := json.Marshal(id)
	rt.others(rt.nodes.Self(), func(n Node) {
		st, status, _, _ := rt.localState(r.Context(), r, n, room)
		if status != http.StatusOK {
			return
		}
		for _, p := range st.participants {
			if bytes.Equal(p["id"], want) {
				mu.Lock()
				found, ok = n, true
				mu.Unlock()
				return
			}
		}
	})
	return found, ok
}

// muteAll answers POST /api/rooms/ROOM/mute-all for a client: every node mutes its own people
// in the room (its cascade legs spared), and the answer counts them all. The node asked answers
// first, which checks the token; a node that fails is left out of the count.
func (rt *Router) muteAll(w http.ResponseWriter, r *http.Request, room string) {
	rec := httptest.NewRecorder()
	rt.next.ServeHTTP(rec, r)
	var here struct {
		Muted int `json:"muted"`
	}
	if rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden || rec.Code == http.StatusBadRequest {
		replay(w, rec)
		return
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &here)
	total, answered := here.Muted, rec.Code == http.StatusOK
	var mu sync.Mutex
	rt.others(rt.nodes.Self(), func(n Node) {
		resp, err := rt.askAs(r.Context(), r, n, http.MethodPost, "/api/rooms/"+room+"/mute-all")
		if err != nil {
			return
		}
		defer resp.Body.Close()
		var their struct {
			Muted int `json:"muted"`
		}
		if resp.StatusCode != http.StatusOK || json.NewDecoder(http.MaxBytesReader(nil, resp.Body, maxPeerReport)).Decode(&their) != nil {
			return
		}
		mu.Lock()
		total, answered = total+their.Muted, true
		mu.Unlock()
	})
	if !answered {
		replay(w, rec) // no node has the room: the node's own 404
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]int{"muted": total})
}
