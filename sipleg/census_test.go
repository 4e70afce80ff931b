package sipleg

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"confd/bridge"
	"confd/testkit/rtptest"

	"confd/testkit"
)

// TestCensusBeforeTheJoinIsKept: a cascade leg's census INFO that reaches the owner before the
// call has joined its room (the caller sends it right after its ACK; this end joins on the ACK,
// a moment later) is applied when it joins, not dropped: the room's roster shows the people
// behind the leg.
func TestCensusBeforeTheJoinIsKept(t *testing.T) {
	node := netip.MustParseAddr("127.0.0.7")
	ts := startServer(t, Config{Cascade: func(src netip.Addr, name string) bool { return src == node && name == "b" }}, nil)
	_, port := callerMedia(t)
	c := newRawClientAt(t, ts, "127.0.0.7")
	d := c.newDialog()
	d.hdrs = CascadeHeader + ": b\r\n"
	if res := d.request("INVITE", "room", sdpOffer(port, 1, pcmuAudio)); res.StatusCode != 200 {
		t.Fatalf("INVITE from node b: %d %s", res.StatusCode, res.Reason)
	}
	invited := d.last
	msg := string(c.inDialog("INFO", invited, 2))
	body := `{"people":3,"moderators":1}`
	msg = msg[:len(msg)-len("Content-Length: 0\r\n\r\n")] +
		fmt.Sprintf("Content-Type: %s\r\nContent-Length: %d\r\n\r\n%s", CensusContentType, len(body), body)
	c.send([]byte(msg))
	for {
		res := c.read(3 * time.Second)
		if res == nil {
			t.Fatal("the census INFO was not answered")
		}
		if res.CSeq().MethodName == "INFO" {
			if res.StatusCode != 200 {
				t.Fatalf("the census INFO: %d %s", res.StatusCode, res.Reason)
			}
			break
		}
	}
	c.send(c.inDialog("ACK", invited, 1))
	behind := func() int {
		for _, p := range ts.bridge.Participants() {
			if st := p.State(); st.Cascade {
				return st.People
			}
		}
		return -1
	}
	if !testkit.WaitFor(5*time.Second, func() bool { return behind() == 3 }) {
		t.Errorf("the cascade leg shows %d people behind it, want the 3 of the census sent before it joined", behind())
	}
}

// TestRequestsInAnAnsweredDialogComeFromTheServersAddress: the requests confd sends in a dialog
// it answered (a cascade's census INFO, a BYE) leave from the address it listens on, not from
// one the kernel picks for the destination (127.0.0.1 towards 127.0.0.9). Sent so once, they
// opened a socket that the next calls to that host reused: a cluster node's cascade calls came
// from 127.0.0.1 and their owner refused them 403 (TestClusterTwentyRoomsOverThreeNodes).
func TestRequestsInAnAnsweredDialogComeFromTheServersAddress(t *testing.T) {
	caller := netip.MustParseAddr("127.0.0.9")
	ts := startServerOn(t, "127.0.0.8", Config{Cascade: func(src netip.Addr, name string) bool { return src == caller && name == "b" }}, nil)
	_, port := callerMedia(t)
	// Node b calls from one port and listens on another, as a node does (its client's socket,
	// its server's): what confd sends in the dialog goes to the listening one, a host:port it
	// has no socket for yet.
	c, listening := newRawClientAt(t, ts, caller.String()), newRawClientAt(t, ts, caller.String())
	d := c.newDialog()
	d.hdrs, d.contact = CascadeHeader+": b\r\n", listening.localAddr()
	if res := d.request("INVITE", "room", sdpOffer(port, 1, pcmuAudio)); res.StatusCode != 200 {
		t.Fatalf("INVITE from node b: %d %s", res.StatusCode, res.Reason)
	}
	d.ack("")
	testkit.Eventually(t, 5*time.Second, func() bool { return len(ts.bridge.Participants()) == 1 })
	ada, err := ts.bridge.Join("room", bridge.ParticipantInfo{Name: "Ada", Kind: "sip"}, rtptest.NopLeg{})
	if err != nil {
		t.Fatal(err)
	}
	defer ada.Leave("test")
	if req := listening.awaitRequest(sip.INFO, 5*time.Second); req == nil {
		t.Fatal("no census INFO after Ada joined")
	} else if got := listening.from.IP.String(); got != "127.0.0.8" {
		t.Errorf("the census INFO came from %s, want the server's 127.0.0.8", got)
	}
	for _, p := range ts.bridge.Participants() {
		if p.Cascade() != "" {
			p.Hangup("test")
		}
	}
	if req := listening.awaitRequest(sip.BYE, 5*time.Second); req == nil {
		t.Fatal("no BYE after the hangup")
	} else if got := listening.from.IP.String(); got != "127.0.0.8" {
		t.Errorf("the BYE came from %s, want the server's 127.0.0.8", got)
	}
}
