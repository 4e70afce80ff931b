package sipleg

import (
	"fmt"
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
