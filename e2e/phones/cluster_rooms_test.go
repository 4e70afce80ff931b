package phones

import (
	"net/http"
	"testing"
	"time"

	"confd/cluster"
	"confd/internal/testkit"
)

// The cluster's rooms as a user of a clustered bridge sees them (README "Several nodes"):
// declarations that converge when a node is back, and a room's limit across the nodes.

// localStatus is the status of GET /api/rooms/ROOM as node i answers it from its own state
// (cluster.LocalHeader), or 0 when it does not answer.
func (c *testCluster) localStatus(i int, room string) int {
	req, _ := http.NewRequest("GET", c.nodes[i].base+"/api/rooms/"+room, nil)
	req.Header.Set("Authorization", "Bearer "+apiToken)
	req.Header.Set(cluster.LocalHeader, "test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
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
	owner := c.ownerIndex(room)
	away, third := (owner+1)%3, (owner+2)%3
	c.kill(away)
	c.nodes[owner].must(http.StatusNoContent, "DELETE", "/api/rooms/"+room, nil)
	if s := c.localStatus(third, room); s != http.StatusNotFound {
		t.Fatalf("node %s, up at the time, answers %d for the deleted room, want 404", c.names[third], s)
	}
	c.restart(away)
	deadline := time.Now().Add(10 * time.Second)
	for c.localStatus(away, room) != http.StatusNotFound {
		if time.Now().After(deadline) {
			st, _ := c.localState(away, room)
			t.Fatalf("node %s, back for 10 s, still has room %s: %+v", c.names[away], room, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	bob := c.mustDial(c.nodes[away].sip, room, "Bob", toneBob)
	defer bob.Close()
	if on := c.landedOn(room, "Bob"); on != away {
		t.Fatalf("Bob, who called node %s, is on node %s", c.names[away], c.names[on])
	}
	if !testkit.WaitFor(5*time.Second, func() bool { return c.localRoom(owner, room)["cascade "+c.names[away]] == cluster.CascadeKind }) {
		t.Fatalf("node %s never cascaded Bob to the owner %s", c.names[away], c.names[owner])
	}
	for i := range c.nodes {
		if st, ok := c.localState(i, room); ok && st.Declared {
			t.Errorf("node %s has room %s declared: %+v", c.names[i], room, st.Settings)
		}
	}
}
