package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"confd/bridge"
)

// Catching up on room declarations. A room declared through the API (PUT /api/rooms/ROOM) is
// applied on every node that is up at the time (Router.declare), since a caller may land on any
// of them and its PIN and lock must hold there. A node that was down then, restarted or cut off,
// misses it, and would let callers into the room without its PIN. So a node that (re)joins the
// cluster, at its start and whenever it sees another node again after seeing none, asks the
// others for their rooms and takes each declared room's settings from its owner (from the node
// that listed it when the owner is this node, which was away) before it answers for it.
//
// It only adds and updates: a room undeclared while this node was away stays declared here
// until it is undeclared again or the node restarts.

// maxPeerBody bounds a peer's answer about its rooms.
const maxPeerBody = 8 << 20

// CatchUp declares on b every room that another node that is up has declared, with its owner's
// settings, asking with the API token. It returns how many rooms it declared, and an error when
// no other node could be asked (the caller tries again later).
func (n *Nodes) CatchUp(ctx context.Context, b *bridge.Bridge, client *http.Client, token string) (int, error) {
	asked, declared := 0, 0
	var lastErr error
	seen := map[string]bool{}
	for _, peer := range n.All() {
		if peer.Name == n.self || !n.Up(peer.Name) {
			continue
		}
		var rooms []bridge.RoomSummary
		if err := getJSON(ctx, client, peer, "/api/rooms", token, &rooms); err != nil {
			lastErr = err
			continue
		}
		asked++
		for _, r := range rooms {
			if seen[r.Room] || !bridge.ValidRoomName(r.Room) {
				continue
			}
			from := n.Owner(r.Room)
			if from.Name == n.self {
				from = peer
			}
			var st bridge.RoomState
			if err := getJSON(ctx, client, from, "/api/rooms/"+url.PathEscape(r.Room), token, &st); err != nil {
				continue // asked again at the next catch-up, or from the next node's list
			}
			seen[r.Room] = true
			if !st.Declared {
				continue
			}
			if err := b.Declare(r.Room, st.Settings); err != nil {
				lastErr = err
				continue
			}
			declared++
		}
	}
	if asked == 0 {
		if lastErr == nil {
			lastErr = ErrNoPeer
		}
		return 0, lastErr
	}
	return declared, nil
}

// getJSON asks node for path, marked as a node's request (LocalHeader: answered from its own
// state, never forwarded), and decodes the answer into v.
func getJSON(ctx context.Context, client *http.Client, node Node, path, token string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+node.HTTP+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set(LocalHeader, "catch-up")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPeerBody))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: %s %s: %s", ErrPeer, node.Name, path, resp.Status)
	}
	return json.Unmarshal(body, v)
}
