package phones

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"confd/bridge"
	"confd/cluster"
	"confd/testkit"
	"confd/testkit/gophone"
)

// The cluster's rooms as a user of a clustered bridge sees them (README "Several nodes"):
// declarations that converge when a node is back, and a room's limit across the nodes.

// localStatus is the status of GET /api/rooms/ROOM as node i answers it from its own state
// (getLocal), or 0 when it does not answer.
func (c *testCluster) localStatus(i int, room string) int {
	status, _ := c.getLocal(i, "/api/rooms/"+room, nil)
	return status
}

// TestClusterNodeBackForgetsARoomDeletedWhileAway: a room of every node's config file, with a
// PIN, deleted through the API while one node was down (killed), is gone from that node too
// once it is back, although its config file declared it again at its start: catching up takes
// the newest change, the deletion the others recorded. A caller who lands on that node is then
// let into the (now ad-hoc) room without the old PIN, cascaded to its owner, as on any node.
func TestClusterNodeBackForgetsARoomDeletedWhileAway(t *testing.T) {
	t.Parallel()
	const room = "leftover"
	c := startCluster(t, "[[room]]\nname = \""+room+"\"\npin = \"1234\"\n")
	owner, away, third := c.nodesOf(room)
	c.kill(away)
	c.nodes[owner].must(http.StatusNoContent, "DELETE", "/api/rooms/"+room, nil)
	if s := c.localStatus(third, room); s != http.StatusNotFound {
		t.Fatalf("node %s, up at the time, answers %d for the deleted room, want 404", c.names[third], s)
	}
	c.restart(away)
	if !testkit.WaitFor(10*time.Second, func() bool { return c.localStatus(away, room) == http.StatusNotFound }) {
		st, _ := c.localState(away, room)
		t.Fatalf("node %s, back for 10 s, still has room %s: %+v", c.names[away], room, st)
	}
	bob := c.mustDial(c.nodes[away].sip, room, "Bob", toneBob)
	defer bob.Close()
	if on := c.landedOn(room, "Bob"); on != away {
		t.Fatalf("Bob, who called node %s, is on node %s", c.names[away], c.names[on])
	}
	if !testkit.WaitFor(5*time.Second, func() bool { return c.localRoom(owner, room)["cascade "+c.names[away]] == bridge.KindCascade }) {
		t.Fatalf("node %s never cascaded Bob to the owner %s", c.names[away], c.names[owner])
	}
	for i := range c.nodes {
		if st, ok := c.localState(i, room); ok && st.Declared {
			t.Errorf("node %s has room %s declared: %+v", c.names[i], room, st.Settings)
		}
	}
}

// refusedBusy reports whether err is a refusal with 486 Busy Here, a full room's answer.
func refusedBusy(err error) bool {
	var se *gophone.StatusError
	return errors.As(err, &se) && se.Code == 486
}

// sees reports whether node i sees node j up (cluster.NodesPath).
func (c *testCluster) sees(i, j int) bool {
	var list []cluster.NodeState
	if status, err := c.getLocal(i, cluster.NodesPath, &list); status != http.StatusOK || err != nil {
		return false
	}
	for _, n := range list {
		if n.Name == c.names[j] {
			return n.Up
		}
	}
	return false
}

// waitAllUp waits until every node sees every other up: until then a node that started first
// takes itself for the owner of rooms that are another's.
func (c *testCluster) waitAllUp() {
	c.t.Helper()
	ok := testkit.WaitFor(10*time.Second, func() bool {
		for i := range c.nodes {
			for j := range c.nodes {
				if !c.sees(i, j) {
					return false
				}
			}
		}
		return true
	})
	if !ok {
		c.t.Fatal("the nodes never all saw each other up")
	}
}

// behind returns how many people the owner (node i) counts behind node's cascade leg in room
// (its roster's "people", the census), or -1 when it has no cascade leg from node.
func (c *testCluster) behind(i int, room, node string) int {
	st, _ := c.localState(i, room)
	for _, p := range st.Participants {
		if p.Cascade && p.Node == node {
			return p.People
		}
	}
	return -1
}

// seats returns the people node i counts in room by node (cluster.SeatsPath), or nil.
func (c *testCluster) seats(i int, room string) map[string]int {
	var sc cluster.SeatCount
	if status, err := c.getLocal(i, cluster.SeatsPath+"?room="+room, &sc); status != http.StatusOK || err != nil {
		return nil
	}
	return sc.People
}

// TestClusterRoomLimitHoldsAcrossNodes: a room of limit 2 (every node's config file) holds two
// people in all, wherever they call: with Ada on a node that does not own it (cascaded to the
// owner, whose roster shows one person behind the cascade leg, which takes no seat) and Bob on
// the owner, Cy is refused 486 Busy Here, through Kamailio and straight at either other node,
// and a browser's WHIP 409, as a full room on its owner refuses; when Ada hangs up, Cy gets in
// on the third node. When that node dies, the owner frees its seat once it sees it down, and
// Dan gets in.
func TestClusterRoomLimitHoldsAcrossNodes(t *testing.T) {
	t.Parallel()
	const room = "capped"
	c := startCluster(t, "[[room]]\nname = \""+room+"\"\nlimit = 2\n")
	owner, other, third := c.nodesOf(room)
	ada := c.mustDial(c.nodes[other].sip, room, "Ada", toneAda)
	if on := c.landedOn(room, "Ada"); on != other {
		t.Fatalf("Ada, who called node %s, is on node %s", c.names[other], c.names[on])
	}
	if !testkit.WaitFor(5*time.Second, func() bool { return c.behind(owner, room, c.names[other]) == 1 }) {
		t.Fatalf("the owner's roster: %d people behind node %s's cascade, want Ada", c.behind(owner, room, c.names[other]), c.names[other])
	}
	if n := c.seats(owner, room)[c.names[other]]; n != 1 {
		t.Fatalf("the owner counts %d seats on node %s, want Ada's", n, c.names[other])
	}
	c.mustDial(c.nodes[owner].sip, room, "Bob", toneBob)
	c.landedOn(room, "Bob")
	for _, via := range []netip.AddrPort{c.kam, c.nodes[third].sip, c.nodes[other].sip} {
		if _, err := c.dial(via, room, "Cy", toneCy); !refusedBusy(err) {
			t.Errorf("Cy calls the full room via %s: %v, want 486 Busy Here", via, err)
		}
	}
	for _, i := range []int{other, third} { // a browser is refused as a phone is: WHIP's 409
		resp, err := http.Post(c.nodes[i].base+"/whip/"+room, "application/sdp", strings.NewReader("v=0\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusConflict {
			t.Errorf("WHIP into the full room on node %s: %s, want 409", c.names[i], resp.Status)
		}
	}
	_ = ada.Close()
	if !testkit.WaitFor(5*time.Second, func() bool { return c.seats(owner, room)[c.names[other]] == 0 }) {
		t.Fatalf("the owner still counts %v after Ada left node %s", c.seats(owner, room), c.names[other])
	}
	c.mustDial(c.nodes[third].sip, room, "Cy", toneCy)
	c.landedOn(room, "Cy")
	if _, err := c.dial(c.nodes[other].sip, room, "Dan", toneAda); !refusedBusy(err) {
		t.Errorf("Dan calls the room full again (Bob, Cy): %v, want 486 Busy Here", err)
	}
	c.kill(third)
	if !testkit.WaitFor(5*time.Second, func() bool { return !c.sees(owner, third) }) {
		t.Fatalf("the owner never saw node %s go down", c.names[third])
	}
	if n := c.seats(owner, room)[c.names[third]]; n != 0 {
		t.Errorf("the owner still counts %d seats on node %s, seen down", n, c.names[third])
	}
	c.mustDial(c.nodes[other].sip, room, "Dan", toneAda)
	c.landedOn(room, "Dan")
}

// TestClusterAPIShowsAndControlsEveryNodesPeople: the API shows and controls a room's people
// as one room on whichever node it is asked. With Ada on a node that does not own the room and
// Cy on its owner, GET /api/rooms/ROOM on the third node lists both (Ada with her node) and the
// cascade leg; mute-all asked there mutes both, on their two nodes (neither hears the other);
// a PATCH asked of the owner about Ada, who is on another node, reaches her node: Cy hears her
// again.
func TestClusterAPIShowsAndControlsEveryNodesPeople(t *testing.T) {
	t.Parallel()
	c := startCluster(t, "")
	room, landed, ada := c.roomLandingOffOwner("api", "Ada", toneAda)
	owner := c.ownerIndex(room)
	third := 3 - owner - landed
	cy := c.mustDial(c.nodes[owner].sip, room, "Cy", toneCy)
	waitSteady(t, []*gophone.Phone{ada, cy}, hearing{ada: {toneCy}, cy: {toneAda}}.in)

	var st bridge.RoomState
	if err := json.Unmarshal(c.nodes[third].must(200, "GET", "/api/rooms/"+room, nil), &st); err != nil {
		t.Fatal(err)
	}
	people := map[string]string{}
	cascades := 0
	adaID := ""
	for _, p := range st.Participants {
		if p.Cascade {
			cascades++
			continue
		}
		people[p.Name] = p.Node
		if p.Name == "Ada" {
			adaID = p.ID
		}
	}
	if len(people) != 2 || people["Ada"] != c.names[landed] || people["Cy"] != "" || cascades != 1 {
		t.Errorf("GET /api/rooms/%s on node %s: people %v (by node), %d cascade legs; want Ada on %s, Cy on the owner, one leg",
			room, c.names[third], people, cascades, c.names[landed])
	}

	m := now()
	var muted struct {
		Muted int `json:"muted"`
	}
	if err := json.Unmarshal(c.nodes[third].must(200, "POST", "/api/rooms/"+room+"/mute-all", nil), &muted); err != nil || muted.Muted != 2 {
		t.Errorf("mute-all on node %s: %+v %v, want both muted", c.names[third], muted, err)
	}
	m.waitAfter(t, ada, cy)
	expectGone(t, cy, m, toneAda, "mute-all on a third node")
	expectGone(t, ada, m, toneCy, "mute-all on a third node")

	m = now()
	c.nodes[owner].must(200, "PATCH", "/api/rooms/"+room+"/participants/"+adaID, map[string]any{"muted": false})
	m.waitAfter(t, cy)
	expectHeard(t, cy, m, toneAda, "Ada unmuted through the owner")
}
