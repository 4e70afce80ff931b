package sipleg

import (
	"net"
	"net/netip"
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
	c, d, port := newCaller(t, ts)
	target := newRawClient(t, "udp", ts)
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

// TestInDialogRequestsLeaveALinkLocalListener: on a listener bound to an IPv6 link-local
// address (its zone naming the interface), a request in a dialog is sent. sipgo knows the
// listening socket by its address with the zone, which the local address of a request cannot
// name: given the listener's address (fromListener), it bound a second socket to the
// listener's port, which failed, and every BYE, REFER, UPDATE and census with it. There,
// sipgo's own socket sends them, as on a listener bound to no one address.
func TestInDialogRequestsLeaveALinkLocalListener(t *testing.T) {
	ifaces, _ := net.Interfaces()
	var ll netip.Addr
	for _, ifc := range ifaces {
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is6() && p.Addr().IsLinkLocalUnicast() {
				ll = p.Addr().WithZone(ifc.Name)
			}
		}
	}
	if !ll.IsValid() {
		t.Skip("no IPv6 link-local address")
	}
	udp, err := net.ListenPacket("udp6", netip.AddrPortFrom(ll, 0).String())
	if err != nil {
		t.Skipf("cannot listen on %v: %v", ll, err)
	}
	peer, err := net.ListenPacket("udp6", netip.AddrPortFrom(ll, 0).String())
	if err != nil {
		t.Skipf("cannot listen on %v: %v", ll, err)
	}
	defer peer.Close()
	s := serveOn(t, Config{}, nil, udp, nil)
	to := netip.MustParseAddrPort(peer.LocalAddr().String())
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: "[" + to.Addr().WithZone("").String() + "]", Port: int(to.Port())})
	req.SetTransport("UDP")
	req.SetDestination(to.String())
	s.fromListener(req)
	s.mu.Lock()
	cl := s.client
	s.mu.Unlock()
	if err := cl.WriteRequest(req); err != nil {
		t.Fatalf("the request was not sent: %v", err)
	}
	buf := make([]byte, 4096)
	peer.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, from, err := peer.ReadFrom(buf)
	if err != nil {
		t.Fatalf("nothing arrived: %v", err)
	}
	t.Logf("sent from %v; the listener is %v", from, udp.LocalAddr())
}
