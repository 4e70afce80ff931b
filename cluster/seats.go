package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"confd/bridge"
	"confd/problem"
)

// A room's limit across the nodes (bridge/seats.go). The owner of a room with a limit counts its
// people: its own, and for every other node the number of people that node reports it holds in
// the room. A node reports the whole number, not a change (so that a lost or repeated report
// does no harm): when it admits a person (a reservation, which the owner refuses when the room
// would be over its limit), when one leaves, and every health interval (which also tells a
// room's new owner after a re-homing, and corrects whatever a lost report left wrong). The
// owner forgets a node's people when it sees the node go down (Nodes.Watch): a dead node's
// seats do not leak. (The census that cascade legs carry, bridge/census.go, counts the same
// people for the moderator rules and the roster, but after they joined: a seat must be had
// before.)
//
// When the owner cannot be asked (no answer within seatTimeout), the node admits the person on
// its own count, as a node alone would: a caller is not turned away because another node is
// slow. The limit then holds per node until the owner answers again, or, when it is down, until
// its rooms re-home (the next owner is told at the next report).

// SeatsPath is the API path at which a room's owner takes a node's report of its people in the
// room (POST, a seatReport) and tells what it counts (GET ?room=ROOM, a SeatCount); the API
// token and LocalHeader required.
const SeatsPath = "/api/cluster/seats"

// seatTimeout bounds a node's wait for the owner's answer before it admits a person on its own.
const seatTimeout = time.Second

// seatReport is a node's report to a room's owner: it holds People people in Room. With
// Reserve, one more is about to join and the owner refuses (409) when that would put the room
// over its limit.
type seatReport struct {
	Room    string `json:"room"`
	Node    string `json:"node"`
	People  int    `json:"people"`
	Reserve bool   `json:"reserve"`
}

// seatAnswer is the owner's answer: the people it counts in the room, on every node.
type seatAnswer struct {
	People int    `json:"people"`
	Error  string `json:"error,omitempty"`
}

// errOwnerSaysFull is a reservation the owner refused.
var errOwnerSaysFull = fmt.Errorf("%w (counted by its owner)", bridge.ErrRoomFull)

// Seats is bridge.Seats for a cluster node: the owner's count of other nodes' people in its
// rooms, and this node's reports to other owners.
type Seats struct {
	nodes  *Nodes
	bridge *bridge.Bridge
	client *http.Client
	token  string
	log    *slog.Logger

	mu       sync.Mutex
	held     map[string]map[string]int // as owner: room → node → people there
	inflight map[string]int            // people granted a seat here, not yet in the room
	reported map[string]int            // what this node last told each room's owner
	// reporting holds one report at a time per room, so that they reach the owner in order (a
	// room's lock is reporting[stripe(room)]).
	reporting [64]sync.Mutex
}

// NewSeats returns the Seats of the node, asking owners with the API token.
func NewSeats(nodes *Nodes, b *bridge.Bridge, token string, log *slog.Logger) *Seats {
	return &Seats{nodes: nodes, bridge: b, token: token, log: log, client: &http.Client{Timeout: seatTimeout},
		held: map[string]map[string]int{}, inflight: map[string]int{}, reported: map[string]int{}}
}

// Elsewhere implements bridge.Seats: the people other nodes reported in room, when this node
// owns it.
func (s *Seats) Elsewhere(room string) int {
	if s.nodes.Owner(room).Name != s.nodes.Self() {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.held[room] {
		n += c
	}
	return n
}

// Full implements bridge.Seats: it reports this node's people in room to the owner and reads
// back how many the owner counts.
func (s *Seats) Full(room string, limit int) bool {
	if s.nodes.Owner(room).Name == s.nodes.Self() {
		return false
	}
	total, err := s.report(room, false)
	return err == nil && total >= limit
}

// Take implements bridge.Seats: a reservation of one more person here, granted unless the owner
// refuses it.
func (s *Seats) Take(room string, limit int) (func(joined bool), error) {
	if s.nodes.Owner(room).Name == s.nodes.Self() {
		return func(bool) {}, nil // the room counts its people itself (Room.full)
	}
	if _, err := s.report(room, true); errors.Is(err, bridge.ErrRoomFull) {
		return nil, err
	} else if err != nil {
		s.log.Warn("cluster: a room's owner did not answer for a seat; admitted on this node's count", "room", room, "err", err)
	}
	var once sync.Once
	return func(joined bool) {
		once.Do(func() {
			s.mu.Lock()
			if s.inflight[room]--; s.inflight[room] <= 0 {
				delete(s.inflight, room)
			}
			s.mu.Unlock()
			if !joined {
				go s.sync(room)
			}
		})
	}, nil
}

// report tells room's owner how many people this node holds in room (with reserve, one more,
// then in flight unless the owner refused it) and returns how many it counts on every node.
// An owner that does not answer refuses nothing: a reservation is granted on this node's count.
func (s *Seats) report(room string, reserve bool) (total int, err error) {
	lock := &s.reporting[stripe(room, len(s.reporting))]
	lock.Lock()
	defer lock.Unlock()
	defer func() {
		if reserve && !errors.Is(err, bridge.ErrRoomFull) {
			s.mu.Lock()
			s.inflight[room]++ // under the room's lock: no report leaves it out once granted
			s.mu.Unlock()
		}
	}()
	owner := s.nodes.Owner(room)
	if owner.Name == s.nodes.Self() {
		return 0, nil
	}
	people := s.bridge.People(room)
	if reserve {
		people++
	}
	// The owner may take the report even when its answer never comes (it is slow, or the
	// answer is lost): from now on this node reports the room until the owner has taken a 0, or
	// the people it counted would stay there for as long as this node lives.
	s.mu.Lock()
	people += s.inflight[room]
	prev, had := s.reported[room]
	s.reported[room] = people
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), seatTimeout)
	defer cancel()
	body, _ := json.Marshal(seatReport{Room: room, Node: s.nodes.Self(), People: people, Reserve: reserve})
	resp, err := ask(ctx, s.client, owner, http.MethodPost, SeatsPath, s.token, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var ans seatAnswer
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, maxPeerReport)).Decode(&ans); err != nil {
		return 0, fmt.Errorf("%w: %s %s: %s", ErrPeer, owner.Name, SeatsPath, resp.Status)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return ans.People, nil
	case http.StatusConflict: // a refused reservation: the owner kept what it had
		s.mu.Lock()
		if s.reported[room] = prev; !had {
			delete(s.reported, room)
		}
		s.mu.Unlock()
		return ans.People, errOwnerSaysFull
	}
	return 0, fmt.Errorf("%w: %s %s: %s %s", ErrPeer, owner.Name, SeatsPath, resp.Status, ans.Error)
}

// stripe returns which of n locks is room's.
func stripe(room string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(room))
	return int(h.Sum32() % uint32(n))
}

// sync reports this node's people in room to its owner when the room has a limit here or was
// reported before (a report of 0 ends it), and forgets the room when it is empty and told.
func (s *Seats) sync(room string) {
	s.mu.Lock()
	_, was := s.reported[room]
	s.mu.Unlock()
	st, err := s.bridge.RoomState(room)
	limited := err == nil && st.Settings.Limit > 0 && s.bridge.People(room) > 0
	if s.nodes.Owner(room).Name == s.nodes.Self() || (!limited && !was) {
		return
	}
	if _, err := s.report(room, false); err != nil && !errors.Is(err, bridge.ErrRoomFull) {
		s.log.Debug("cluster: seat report", "room", room, "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reported[room] == 0 && s.inflight[room] == 0 {
		delete(s.reported, room)
	}
}

// SeatCount is GET SeatsPath?room=ROOM: the people the node counts in the room, by node (its
// own, and what the others reported to it).
type SeatCount struct {
	Room   string         `json:"room"`
	People map[string]int `json:"people"`
}

// count answers GET SeatsPath?room=ROOM.
func (s *Seats) count(w http.ResponseWriter, r *http.Request) {
	room := r.URL.Query().Get("room")
	if !bridge.ValidRoomName(room) {
		problem.Write(w, http.StatusBadRequest, "?room= must name a room")
		return
	}
	out := SeatCount{Room: room, People: map[string]int{s.nodes.Self(): s.bridge.People(room)}}
	s.mu.Lock()
	for node, c := range s.held[room] {
		out.People[node] = c
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// Forget drops the people node held in this node's rooms: it is down (Nodes.Watch), and its
// calls with it.
func (s *Seats) Forget(node string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for room, by := range s.held {
		delete(by, node)
		if len(by) == 0 {
			delete(s.held, room)
		}
	}
}

// Run reports this node's people to the owners of their rooms when someone leaves a room, and
// every interval for every room (which also tells a new owner after a re-homing), and forgets
// reports about rooms this node no longer owns, until ctx ends.
func (s *Seats) Run(ctx context.Context, interval time.Duration) {
	watch(ctx, s.bridge, interval, func(e bridge.Event) {
		if e.Type == bridge.EventLeave || e.Type == bridge.EventJoin {
			go s.sync(e.Room)
		}
	}, func() {
		s.mu.Lock()
		var reported []string
		for r := range s.reported {
			reported = append(reported, r)
		}
		for r := range s.held {
			if s.nodes.Owner(r).Name != s.nodes.Self() {
				delete(s.held, r)
			}
		}
		s.mu.Unlock()
		for _, r := range roomsWith(s.bridge, reported) {
			s.sync(r)
		}
	})
}

// serve answers a node's seatReport as the room's owner: the node's people are recorded, unless
// a reservation would put the room over its limit (409, with the people counted, and nothing
// recorded).
func (s *Seats) serve(w http.ResponseWriter, r *http.Request) {
	var rep seatReport
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxPeerReport)).Decode(&rep); err != nil ||
		!bridge.ValidRoomName(rep.Room) || rep.People < 0 || rep.People > bridge.MaxPeople || rep.Node == s.nodes.Self() {
		problem.Write(w, http.StatusBadRequest, "a seat report is {room, node, people, reserve}")
		return
	}
	if _, ok := s.nodes.Node(rep.Node); !ok {
		problem.Write(w, http.StatusBadRequest, fmt.Sprintf("no node %q in this cluster", rep.Node))
		return
	}
	var ans seatAnswer
	full := false
	s.bridge.WithPeople(rep.Room, func(here int, st bridge.RoomSettings) {
		s.mu.Lock()
		defer s.mu.Unlock()
		others := 0
		for node, c := range s.held[rep.Room] {
			if node != rep.Node {
				others += c
			}
		}
		was := s.held[rep.Room][rep.Node]
		if rep.Reserve && st.Limit > 0 && rep.People > was && here+others+rep.People > st.Limit {
			full, ans.People = true, here+others+was
			return
		}
		if s.held[rep.Room] == nil {
			s.held[rep.Room] = map[string]int{}
		}
		if s.held[rep.Room][rep.Node] = rep.People; rep.People == 0 {
			delete(s.held[rep.Room], rep.Node)
			if len(s.held[rep.Room]) == 0 {
				delete(s.held, rep.Room)
			}
		}
		ans.People = here + others + rep.People
	})
	w.Header().Set("Content-Type", "application/json")
	if full {
		ans.Error = "room is full"
		w.WriteHeader(http.StatusConflict)
	}
	_ = json.NewEncoder(w).Encode(ans)
}
