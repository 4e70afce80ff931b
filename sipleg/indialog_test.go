package sipleg

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestInDialogRequestsComeFromTheListener: a request confd sends in a call's dialog (here the
// BYE of a call it hangs up) leaves from the UDP socket it listens on, the address the phone
// sent its INVITE to, not from a socket sipgo opened for it: a phone's NAT, or another node
// checking a cascade's source, would not know that one. The phone's Contact is another socket
// than the one it sent from (as a confd node's cascade INVITE is sent from a socket of its
// own), which confd had never heard from.
func TestInDialogRequestsComeFromTheListener(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, nil)
	_, port := callerMedia(t)
	c, target := newRawClient(t, "udp", ts), newRawClient(t, "udp", ts)
	d := c.newDialog()
	d.contact = target.localAddr()
	if res := d.request("INVITE", "listener", sdpOffer(port, 1, pcmuAudio)); res.StatusCode != 200 {
		t.Fatalf("INVITE answered %d", res.StatusCode)
	}
	d.ack("")
	call := ts.onlyCall(t)
	for !call.isConfirmed() { // the ACK is handled on a goroutine of its own
		time.Sleep(time.Millisecond)
	}
	call.Hangup("test")
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		m, from := target.readMessageFrom(time.Until(deadline))
		req, ok := m.(*sip.Request)
		if !ok || req.Method != sip.BYE {
			continue
		}
		target.send([]byte(sip.NewResponseFromRequest(req, 200, "OK", nil).String()))
		if from.String() != c.srv.String() {
			t.Errorf("the BYE came from %v, want confd's SIP address %v", from, c.srv)
		}
		waitIdle(t, ts)
		return
	}
	t.Fatal("no BYE")
}
