package cluster

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"confd/bridge"
	"confd/testkit"
)

// seatNode is one node of a two-node cluster in a test: its bridge, its Seats, and its API
// (the Router, in front of an API that answers nothing).
type seatNode struct {
	nodes  *Nodes
	bridge *bridge.Bridge
	seats  *Seats
	server *httptest.Server
}

// twoSeatNodes starts nodes a and b, each with the declared rooms, listening on httptest
// servers; it returns them and a room a owns.
func twoSeatNodes(t *testing.T, rooms map[string]bridge.RoomSettings) (a, b *seatNode) {
	return twoSeatNodesSlow(t, rooms, 0)
}

// twoSeatNodesSlow is twoSeatNodes whose a answers a seat report only after slow (having
// taken it at once).
func twoSeatNodesSlow(t *testing.T, rooms map[string]bridge.RoomSettings, slow time.Duration) (a, b *seatNode) {
	var servers [2]*httptest.Server
	var handlers [2]http.Handler
	for i := range servers {
		servers[i] = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handlers[i].ServeHTTP(w, r) }))
		t.Cleanup(servers[i].Close)
	}
	cfg := Config{Nodes: []Node{
		{Name: "a", SIP: netip.MustParseAddrPort("127.0.0.11:5060"), HTTP: strings.TrimPrefix(servers[0].URL, "http://")},
		{Name: "b", SIP: netip.MustParseAddrPort("127.0.0.12:5060"), HTTP: strings.TrimPrefix(servers[1].URL, "http://")},
	}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var out [2]*seatNode
	for i, self := range []string{"a", "b"} {
		cfg.Self = self
		n := &seatNode{nodes: NewNodes(cfg), bridge: bridge.New(bridge.Config{Rooms: rooms}), server: servers[i]}
		t.Cleanup(n.bridge.Close)
		n.seats = NewSeats(n.nodes, n.bridge, "tok", log)
		n.bridge.SetSeats(n.seats)
		handlers[i] = NewRouter(n.nodes, n.bridge, http.NotFoundHandler(), "tok", n.seats)
		if rt := handlers[i]; self == "a" && slow > 0 {
			handlers[i] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rt.ServeHTTP(w, r)
				if r.URL.Path == SeatsPath {
					time.Sleep(slow)
				}
			})
		}
		out[i] = n
	}
	return out[0], out[1]
}

// TestRoomLimitIsTheRoomsAcrossNodes: a room of limit 2 owned by a holds two people in all,
// wherever they are: with Ada on b (a seat from a) and Bob on a, Cy is refused on either node
// (ErrRoomFull, what a full room answers on its owner), b's cascade leg taking no seat; when Ada
// leaves, b tells a and Cy gets in on b. When a sees b go down, b's people no longer count. An
// owner that cannot be asked refuses nobody: b admits on its own count (Dan, a third person).
func TestRoomLimitIsTheRoomsAcrossNodes(t *testing.T) {
	probe := threeNodes("a")
	probe.SetUp("c", false)
	room := ""
	for i := 0; room == ""; i++ {
		if r := "limited" + string(rune('a'+i)); probe.Owner(r).Name == "a" {
			room = r
		}
	}
	a, b := twoSeatNodes(t, map[string]bridge.RoomSettings{room: {Limit: 2}})
	ada := join(t, b.bridge, room, bridge.ParticipantInfo{Kind: "sip", Name: "Ada"})
	join(t, b.bridge, room, bridge.ParticipantInfo{Kind: bridge.KindCascade, Name: "cascade to a", Cascade: "a"})
	if got := a.seats.Elsewhere(room); got != 1 {
		t.Fatalf("a counts %d people on b, want Ada", got)
	}
	join(t, a.bridge, room, bridge.ParticipantInfo{Kind: "sip", Name: "Bob"})
	for _, n := range []*seatNode{a, b} {
		if _, err := n.bridge.Admit(room); !errors.Is(err, bridge.ErrRoomFull) {
			t.Errorf("Admit on node %s with Ada and Bob in: %v, want ErrRoomFull", n.nodes.Self(), err)
		}
		if _, err := n.bridge.Join(room, bridge.ParticipantInfo{Kind: "sip", Name: "Cy"}, &nullLeg{}); !errors.Is(err, bridge.ErrRoomFull) {
			t.Errorf("Cy joins on node %s with Ada and Bob in: %v, want ErrRoomFull", n.nodes.Self(), err)
		}
	}
	if st, ok := bridge.StatusOf(errOwnerSaysFull); !ok || st.SIP != 486 || st.HTTP != 409 {
		t.Errorf("the owner's refusal answers %+v, want a full room's 486 and 409", st)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.seats.Run(ctx, 20*time.Millisecond) // b reports at the leave, and at least every interval
	ada.Leave("hangup")
	testkit.Eventually(t, 5*time.Second, "a still counts Ada after she left b", func() bool { return a.seats.Elsewhere(room) == 0 })
	join(t, b.bridge, room, bridge.ParticipantInfo{Kind: "sip", Name: "Cy"})
	if got := a.seats.Elsewhere(room); got != 1 {
		t.Errorf("a counts %d people on b, want Cy", got)
	}

	a.seats.Forget("b")
	if got := a.seats.Elsewhere(room); got != 0 {
		t.Errorf("a counts %d people on b, which went down", got)
	}

	a.server.Close() // a no longer answers b
	if _, err := b.bridge.Join(room, bridge.ParticipantInfo{Kind: "sip", Name: "Dan"}, &nullLeg{}); err != nil {
		t.Errorf("Dan joins b, with Cy there and Bob on a, which does not answer: %v; want b's own count (1 of 2)", err)
	}
}

// TestSeatsOfASlowOwnerDoNotLeak: an owner that takes b's reports but answers them too late
// (overloaded, a slow link) still hears that Ada left b: b admitted her on its own count, and
// the owner, which had counted her, must not count her for as long as b lives (a room of limit
// 1 would refuse everyone).
func TestSeatsOfASlowOwnerDoNotLeak(t *testing.T) {
	room := ownedBy("a")
	a, b := twoSeatNodesSlow(t, map[string]bridge.RoomSettings{room: {Limit: 1}}, seatTimeout+200*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.seats.Run(ctx, 50*time.Millisecond)
	ada := join(t, b.bridge, room, bridge.ParticipantInfo{Kind: "sip", Name: "Ada"})
	testkit.Eventually(t, 5*time.Second, "a never counted Ada on b", func() bool { return a.seats.Elsewhere(room) == 1 })
	ada.Leave("hangup")
	testkit.Eventually(t, 5*time.Second, "a still counts Ada after she left b", func() bool { return a.seats.Elsewhere(room) == 0 })
}

// TestSeatReportBeyondReasonIsRefused: a node's report of more people than any room holds (a
// bug, or a forged report) is refused 400 and changes nothing: counted, it filled the room for
// good, or, summed with another, overflowed into a count that never fills it.
func TestSeatReportBeyondReasonIsRefused(t *testing.T) {
	room := ownedBy("a")
	a, _ := twoSeatNodes(t, map[string]bridge.RoomSettings{room: {Limit: 2}})
	for _, people := range []string{"1048577", "9223372036854775807"} {
		req, _ := http.NewRequest(http.MethodPost, a.server.URL+SeatsPath, strings.NewReader(`{"room":"`+room+`","node":"b","people":`+people+`}`))
		req.Header.Set("Authorization", "Bearer tok")
		req.Header.Set(LocalHeader, "b")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || a.seats.Elsewhere(room) != 0 {
			t.Errorf("a report of %s people: %d, a counts %d on b; want 400 and none", people, resp.StatusCode, a.seats.Elsewhere(room))
		}
	}
}
