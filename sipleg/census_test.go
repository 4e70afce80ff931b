package sipleg

import (
	"net/netip"
	"testing"
	"time"

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
	d.cseq = 2 // the INFO goes ahead of the INVITE's ACK (CSeq 1)
	if code := d.infoBody(CensusContentType, `{"people":3,"moderators":1}`); code != 200 {
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
