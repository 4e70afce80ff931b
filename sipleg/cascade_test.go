package sipleg

import (
	"net/netip"
	"testing"
	"time"

	"confd/bridge"
	"confd/testkit"
)

// nodeB is the address of the other confd node, named "b", that the cascade tests' servers trust.
var nodeB = netip.MustParseAddr("127.0.0.7")

// fromNodeB is a Config.Cascade that takes a cascade from node b at nodeB and from no other.
func fromNodeB(src netip.Addr, name string) bool { return src == nodeB && name == "b" }

// cascadeInvite sends node b's cascade INVITE (a PCMU offer with the X-Confd-Cascade header)
// into room from nodeB, from a raw client of its own, and fails the test unless confd answers
// 200. The ACK is left to the caller.
func cascadeInvite(t *testing.T, ts *testServer, room string) (*rawClient, *dialog) {
	t.Helper()
	_, port := callerMedia(t)
	c := newRawClientAt(t, ts, nodeB.String())
	d := c.newDialog()
	d.hdrs = CascadeHeader + ": b\r\n"
	if res := d.request("INVITE", room, sdpOffer(port, 1, pcmuAudio)); res.StatusCode != 200 {
		t.Fatalf("node b's cascade INVITE into %s: %d %s, want 200", room, res.StatusCode, res.Reason)
	}
	return c, d
}

// TestCascadeHeaderFromAnUnknownSourceIsRefused: the X-Confd-Cascade header skips a room's
// PIN (the first node asked for it), so a caller forging it to get into a PIN room is refused
// 403 without joining; a configured node at its own address joins at once, as a cascade
// participant, and a configured node's address naming another node is refused too.
func TestCascadeHeaderFromAnUnknownSourceIsRefused(t *testing.T) {
	ts := startServer(t, Config{Cascade: fromNodeB}, map[string]bridge.RoomSettings{"secret": {PIN: "4321"}})
	_, port := callerMedia(t)
	for _, tc := range []struct {
		from, node string
	}{{"127.0.0.1", "b"}, {"127.0.0.7", "c"}, {"127.0.0.1", ""}} {
		d := newRawClientAt(t, ts, tc.from).newDialog()
		d.hdrs = CascadeHeader + ": " + tc.node + "\r\n"
		if res := d.request("INVITE", "secret", sdpOffer(port, 1, pcmuAudio)); res.StatusCode != 403 {
			t.Errorf("INVITE from %s as cascade %q: %d %s, want 403", tc.from, tc.node, res.StatusCode, res.Reason)
		}
	}
	if n := len(ts.bridge.Participants()); n != 0 {
		t.Fatalf("%d participants after forged cascades", n)
	}

	_, d := cascadeInvite(t, ts, "secret")
	d.ack("")
	testkit.WaitFor(5*time.Second, func() bool { return len(ts.bridge.Participants()) > 0 })
	ps := ts.bridge.Participants()
	if len(ps) != 1 {
		t.Fatalf("node b's cascade: %d participants, want 1 (no PIN asked)", len(ps))
	}
	if st := ps[0].State(); st.Kind != bridge.KindCascade || st.Name != "cascade b" {
		t.Errorf("node b's cascade joined as %q %q, want kind %q", st.Kind, st.Name, bridge.KindCascade)
	}
}

// TestDrainAnswersOptions503: a draining server answers OPTIONS 503 with Retry-After, so a
// proxy's health check (Kamailio's dispatcher) takes it out of its set.
func TestDrainAnswersOptions503(t *testing.T) {
	ts := startServer(t, Config{RetryAfter: 9}, nil)
	c := newRawClient(t, "udp", ts)
	if res := c.newDialog().request("OPTIONS", "x", ""); res.StatusCode != 200 {
		t.Fatalf("OPTIONS before draining: %d", res.StatusCode)
	}
	ts.Drain()
	res := c.newDialog().request("OPTIONS", "x", "")
	if res.StatusCode != 503 || res.GetHeader("Retry-After") == nil || res.GetHeader("Retry-After").Value() != "9" {
		t.Fatalf("OPTIONS while draining: %d %v, want 503 with Retry-After 9", res.StatusCode, res.GetHeader("Retry-After"))
	}
}

// TestCascadeJoinsAFullRoom: a room whose limit this node's own people fill still takes a
// cascade from another node, whose callers were admitted there; a person beyond the limit is
// refused 486.
func TestCascadeJoinsAFullRoom(t *testing.T) {
	ts := startServer(t, Config{Cascade: fromNodeB}, map[string]bridge.RoomSettings{"small": {Limit: 1}})
	_, port := callerMedia(t)
	person := newRawClientAt(t, ts, "127.0.0.1").newDialog()
	if res := person.request("INVITE", "small", sdpOffer(port, 1, pcmuAudio)); res.StatusCode != 200 {
		t.Fatalf("the first person: %d %s", res.StatusCode, res.Reason)
	}
	person.ack("")
	waitParticipants(t, ts, "small", 1)
	if res := newRawClientAt(t, ts, "127.0.0.1").newDialog().request("INVITE", "small", sdpOffer(port, 1, pcmuAudio)); res.StatusCode != 486 {
		t.Errorf("a second person: %d %s, want 486", res.StatusCode, res.Reason)
	}
	_, d := cascadeInvite(t, ts, "small")
	d.ack("")
	waitParticipants(t, ts, "small", 2)
}
