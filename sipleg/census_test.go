package sipleg

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"confd/bridge"
	"confd/testkit"
)

// TestCensusBeforeTheJoinIsKept: a cascade leg's census INFO that reaches the owner before the
// call has joined its room (the caller sends it right after its ACK; this end joins on the ACK,
// a moment later) is applied when it joins, not dropped: the room's roster shows the people
// behind the leg.
func TestCensusBeforeTheJoinIsKept(t *testing.T) {
	ts := startServer(t, Config{Cascade: fromNodeB}, nil)
	c, d := cascadeInvite(t, ts, "room")
	invited := d.last
	d.cseq = 2 // the INFO goes ahead of the INVITE's ACK (CSeq 1)
	// Media types are case-insensitive and may carry parameters (RFC 2045 section 5.1).
	if code := d.infoBody("Application/X-Confd-Census+JSON; charset=utf-8", `{"people":3,"moderators":1}`); code != 200 {
		t.Fatalf("the census INFO answered %d", code)
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

// TestCensusSenderEndsWithTheCall: a cascade leg's census goes to a node that never answers it
// (down, or cut off); when the call ends, the goroutine sending it ends with it, not when the
// INFO's transaction would have timed out (64*T1, 32 s).
func TestCensusSenderEndsWithTheCall(t *testing.T) {
	ts := startServer(t, Config{Cascade: fromNodeB}, nil)
	_, phonePort := callerMedia(t)
	c, d := cascadeInvite(t, ts, "room")
	d.ack("")
	p := newRawClient(t, "udp", ts).newDialog()
	if res := p.request("INVITE", "room", sdpOffer(phonePort, 1, pcmuAudio)); res.StatusCode != 200 {
		t.Fatalf("INVITE from a phone: %d %s", res.StatusCode, res.Reason)
	}
	p.ack("")
	var info *sip.Request
	for deadline := time.Now().Add(5 * time.Second); info == nil && time.Now().Before(deadline); {
		if m, ok := c.readMessage(time.Until(deadline)).(*sip.Request); ok && m.Method == sip.INFO {
			info = m // never answered
		}
	}
	if info == nil {
		t.Fatal("no census INFO to node b")
	}
	p.bye()
	d.bye()
	waitIdle(t, ts)
	sending := func() bool {
		buf := make([]byte, 1<<20)
		return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "sendCensusLoop")
	}
	if testkit.WaitFor(5*time.Second, func() bool { return !sending() }) {
		return
	}
	t.Error("the census sender outlived its call")
}

// TestCensusOnlyFromACascade: a census INFO (bridge/census.go) in an ordinary call's dialog is
// answered 415 and changes nothing; only a cascade leg's dialog takes it.
func TestCensusOnlyFromACascade(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, map[string]bridge.RoomSettings{"4242": {WaitForModerator: true}})
	p := dialRawPhone(t, ts, "4242", 700)
	if code := p.d.infoBody(CensusContentType, `{"people":5,"moderators":5}`); code != 415 {
		t.Errorf("a census INFO from a phone answered %d, want 415", code)
	}
	st, err := ts.bridge.RoomState("4242")
	if err != nil || len(st.Participants) != 1 || !st.Participants[0].Waiting {
		t.Errorf("after a phone's census INFO: %+v, %v; want the phone still waiting for a moderator", st.Participants, err)
	}
}
