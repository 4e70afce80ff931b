package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"time"

	"confd/bridge"
)

// Catching up on room declarations. A room declared or undeclared through the API (PUT or
// DELETE /api/rooms/ROOM) is changed on every node that is up at the time (Router.declare),
// since a caller may land on any of them and its PIN and lock must hold there. A node that was
// down then, restarted or cut off, misses the change: it would let callers into the room
// without its PIN, or keep a deleted room declared. So a node catches up (CatchUp) at its start,
// whenever it sees another node again after seeing none, and whenever a node it saw down comes
// back (which may hold changes made while the two could not talk).
//
// Catching up converges, it does not only add: every node keeps, for each room, when its
// declaration last changed and whether the change declared or undeclared it (a tombstone),
// with the time stamped once by the node where the API request arrived and carried to the
// others (ChangedHeader). Catching up takes, room by room, the newest change among this node's
// and every other node's that is up (last writer wins; the nodes' clocks must agree to well
// under the time between two changes of one room, as NTP keeps them). A declaration from the
// config file or the state file has no time: any change made through the API is newer, and a
// node that has no record of a room takes it from one that has. A node's own record wins a
// tie. So a room deleted while a node was away is undeclared there when it is back, and a room
// declared on a node that was alone reaches the others when they see it again.
//
// A room undeclared by catching up while it has participants on this node ends as a deleted
// room ends on the node where it was deleted (bridge.Bridge.Undeclare): its calls go on with
// its settings, as an ad-hoc room, and it is forgotten when the last one leaves.

// ChangedHeader carries, on the copies of a PUT or DELETE /api/rooms/ROOM that a node sends the
// others, when the change was made on the node that received it (RFC 3339, nanoseconds), so
// that every node records the same time for it.
const ChangedHeader = "X-Confd-Changed"

// maxStampAhead is how far ahead of this node's clock a ChangedHeader may be: a copy stamped
// later (a node whose clock is wrong, or a forged header) is recorded as made when it arrived,
// or every later change of the room, made anywhere, would be older, and catching up would put
// the stale declaration back on every node until that time.
const maxStampAhead = time.Minute

// DeclarationsPath is the API path at which a node lists its declarations for catching up
// (GET, the API token and LocalHeader required).
const DeclarationsPath = "/api/cluster/declarations"

// maxPeerBody bounds a peer's answer about its rooms (its declarations, its rooms, a room's
// state); maxPeerReport a seat report or a mute-all count, a few fields.
const (
	maxPeerBody   = 8 << 20
	maxPeerReport = 4096
)

// Declaration is what a node knows of one room's declaration: declared with its settings (as
// declared, 0 for a default), or undeclared, and when that last changed (zero: from the config
// file or the state file, older than any change through the API).
type Declaration struct {
	Room     string              `json:"room"`
	Declared bool                `json:"declared"`
	Settings bridge.RoomSettings `json:"settings"`
	Changed  time.Time           `json:"changed"`
}

// newer reports whether d is a later change than old.
func (d Declaration) newer(old Declaration) bool { return d.Changed.After(old.Changed) }

// Declarer is where catching up applies declarations: the bridge, and on a daemon with a data
// directory its state file too.
type Declarer interface {
	Declare(room string, s bridge.RoomSettings) error
	Undeclare(room string) error
	Declared() map[string]bridge.RoomSettings
}

// ledger records when each room's declaration last changed through the API, and the rooms
// undeclared (tombstones: kept so that a node that was away learns of the deletion).
type ledger struct {
	changed map[string]time.Time
	gone    map[string]bool
}

// Changed records that room was declared (or undeclared, declared false) at at.
func (n *Nodes) Changed(room string, declared bool, at time.Time) {
	n.declMu.Lock()
	defer n.declMu.Unlock()
	n.ledger.changed[room] = at
	if declared {
		delete(n.ledger.gone, room)
	} else {
		n.ledger.gone[room] = true
	}
}

// Declarations returns this node's declarations: every room d declares, with when it changed,
// and every room undeclared through the API since this node started.
func (n *Nodes) Declarations(d Declarer) []Declaration {
	declared := d.Declared()
	n.declMu.Lock()
	defer n.declMu.Unlock()
	out := make([]Declaration, 0, len(declared)+len(n.ledger.gone))
	for room, s := range declared {
		out = append(out, Declaration{Room: room, Declared: true, Settings: s, Changed: n.ledger.changed[room]})
	}
	for room := range n.ledger.gone {
		if _, ok := declared[room]; !ok {
			out = append(out, Declaration{Room: room, Changed: n.ledger.changed[room]})
		}
	}
	return out
}

// Caught is what one catch-up changed on this node.
type Caught struct {
	Declared, Undeclared int
	// Failed lists the changes this node could not apply (a hold music file it lacks), as
	// "room: error" (the room keeps what it had here), and the nodes it could not tell to
	// catch up.
	Failed []string
	// Behind lists the nodes asked that lacked a change, told to catch up.
	Behind []string
}

// CatchUp makes d's declarations the cluster's: for each room, the newest change among this
// node's declarations and those of every other node that is up (asked with the API token at
// DeclarationsPath). It returns what it changed here, and an error when no other node could
// be asked (the caller tries again later).
func (n *Nodes) CatchUp(ctx context.Context, d Declarer, client *http.Client, token string) (Caught, error) {
	mine := map[string]Declaration{}
	for _, x := range n.Declarations(d) {
		mine[x.Room] = x
	}
	best := maps.Clone(mine)
	theirs := map[string]bool{}                  // best[room] is another node's
	fromOwner := map[string]bool{}               // and that node is the room's owner
	lists := map[string]map[string]Declaration{} // what each node asked has, by room
	var lastErr error
	for _, peer := range n.All() {
		if peer.Name == n.self || !n.Up(peer.Name) {
			continue
		}
		var list []Declaration
		if err := getJSON(ctx, client, peer, DeclarationsPath, token, &list); err != nil {
			lastErr = err
			continue
		}
		lists[peer.Name] = map[string]Declaration{}
		for _, x := range list {
			lists[peer.Name][x.Room] = x
		}
		for _, x := range list {
			if !bridge.ValidRoomName(x.Room) {
				continue
			}
			cur, had := best[x.Room]
			owner := n.Owner(x.Room).Name == peer.Name
			// This node's record wins a tie; a tie between two others' (two config files'
			// rooms) goes to the owner's.
			tie := had && !cur.newer(x) && theirs[x.Room] && owner && !fromOwner[x.Room]
			if !had || x.newer(cur) || tie {
				best[x.Room], theirs[x.Room], fromOwner[x.Room] = x, true, owner
			}
		}
	}
	if len(lists) == 0 {
		if lastErr == nil {
			lastErr = ErrNoPeer
		}
		return Caught{}, lastErr
	}
	var caught Caught
	for room, x := range best {
		if theirs[room] {
			n.apply(d, x, mine[room], &caught)
		}
	}
	// A node asked that lacks a newer change is told to catch up (CatchUpPath): the node that
	// took the change may have seen it down then, while it saw nobody down.
	for peer, has := range lists {
		for room, x := range best {
			if y, ok := has[room]; !ok || x.newer(y) {
				node, _ := n.Node(peer)
				caught.Behind = append(caught.Behind, peer)
				if err := post(ctx, client, node, CatchUpPath, token); err != nil {
					caught.Failed = append(caught.Failed, fmt.Sprintf("telling %s to catch up: %v", peer, err))
				}
				break
			}
		}
	}
	return caught, nil
}

// CatchUpPath is the API path at which a node is told to catch up (POST, 204): another node
// found it lacks a change.
const CatchUpPath = "/api/cluster/catch-up"

// Nudge makes Watch catch up at its next round (CatchUpPath).
func (n *Nodes) Nudge() { n.nudged.Store(true) }

// apply makes x, newer than old (this node's declaration of the room when the catch-up began),
// this node's, unless an API request changed the room since, later than x.
func (n *Nodes) apply(d Declarer, x, old Declaration, caught *Caught) {
	n.applyMu.Lock()
	defer n.applyMu.Unlock()
	n.declMu.Lock()
	now, changed := n.ledger.changed[x.Room]
	n.declMu.Unlock()
	if changed && !now.Equal(old.Changed) && !x.Changed.After(now) {
		return
	}
	var err error
	switch {
	case x.Declared:
		if err = d.Declare(x.Room, x.Settings); err == nil {
			caught.Declared++
		}
	default:
		if err = d.Undeclare(x.Room); err == nil {
			caught.Undeclared++
		} else if errors.Is(err, bridge.ErrNoRoom) {
			err = nil // not declared here: the tombstone only is kept
		}
	}
	if err != nil {
		caught.Failed = append(caught.Failed, fmt.Sprintf("%s: %v", x.Room, err))
		return
	}
	n.Changed(x.Room, x.Declared, x.Changed)
}

// ServeDeclarations answers GET DeclarationsPath with this node's declarations (the caller has
// checked the token).
func (n *Nodes) ServeDeclarations(w http.ResponseWriter, d Declarer) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(n.Declarations(d))
}

// post sends node an empty POST at path as a node's request, and wants 204.
func post(ctx context.Context, client *http.Client, node Node, path, token string) error {
	resp, err := ask(ctx, client, node, http.MethodPost, path, token, nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("%w: %s %s: %s", ErrPeer, node.Name, path, resp.Status)
	}
	return nil
}

// getJSON asks node for path as a node's request and decodes the answer into v.
func getJSON(ctx context.Context, client *http.Client, node Node, path, token string, v any) error {
	resp, err := ask(ctx, client, node, http.MethodGet, path, token, nil)
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

// ask sends node a request of this node's (LocalHeader: answered from its own state, never
// forwarded) with the API token and body as JSON when not nil.
func ask(ctx context.Context, client *http.Client, node Node, method, path, token string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+node.HTTP+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set(LocalHeader, "node")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return client.Do(req)
}
