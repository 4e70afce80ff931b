package sipleg

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"confd/bridge"
	"confd/testkit"
)

// answeredCall places a PCMU call into room from a raw client of its own and ACKs confd's 200.
func answeredCall(t *testing.T, ts *testServer, room string) (*rawClient, *dialog) {
	t.Helper()
	_, port := callerMedia(t)
	c := newRawClient(t, "udp", ts)
	d := c.newDialog()
	if res := d.request("INVITE", room, sdpOffer(port, 1, pcmuAudio)); res.StatusCode != 200 {
		t.Fatalf("INVITE answered %d", res.StatusCode)
	}
	d.ack("")
	return c, d
}

// onlyParticipant waits until room has one participant and returns it, with a subscription to
// the room's events (closed when the test ends).
func onlyParticipant(t *testing.T, ts *testServer, room string) (*bridge.Participant, *bridge.Subscription) {
	t.Helper()
	waitParticipants(t, ts, room, 1)
	r, _ := ts.bridge.Room(room)
	sub := ts.bridge.Bus().Subscribe(room, 64, "")
	t.Cleanup(sub.Close)
	return r.Participants()[0], sub
}

// TestTransferIgnoresForgedNOTIFYs (red team, issue 13): while a caller's transfer is in
// progress, a NOTIFY saying "SIP/2.0 200 OK" ends its call only when it comes in that call's
// dialog. A stranger who knows the Call-ID (it is the caller's) but not confd's To tag — a
// guessed tag, none at all — and another caller sending the NOTIFY in its own dialog all get
// 481; no BYE goes out, the caller stays, and the phone's own final NOTIFY still decides.
// Flooding the dialog with provisional NOTIFYs is answered, and makes at most
// maxProgressEvents events (it made one per NOTIFY).
func TestTransferIgnoresForgedNOTIFYs(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, nil)
	c, d := answeredCall(t, ts, "xfer")
	waitParticipants(t, ts, "xfer", 1)
	r, _ := ts.bridge.Room("xfer")
	xfer := r.Participants()[0] // the first caller: the one transferred
	_, d2 := answeredCall(t, ts, "xfer")
	waitParticipants(t, ts, "xfer", 2)
	sub := ts.bridge.Bus().Subscribe("xfer", 256, "")
	defer sub.Close()
	if err := xfer.Transfer(context.Background(), "sip:desk@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	d.awaitRefer(t, 202)
	if e := nextTransfer(t, sub); e.Data["state"] != "accepted" {
		t.Fatalf("after the 202: %+v", e)
	}

	stranger := newRawClient(t, "udp", ts)
	for name, forged := range map[string]*dialog{
		"a guessed To tag":          {c: stranger, callID: d.callID, cseq: 100, toTag: "guessed"},
		"no To tag":                 {c: stranger, callID: d.callID, cseq: 200},
		"the other caller's dialog": d2,
	} {
		if res := forged.notify("refer", "terminated;reason=noresource", "message/sipfrag", "SIP/2.0 200 OK"); res.StatusCode != 481 {
			t.Errorf("a forged NOTIFY with %s: %d, want 481", name, res.StatusCode)
		}
	}
	// A flood of provisional NOTIFYs in the right dialog: every one answered, none ends it,
	// and they become a few progress events, not a flood of them.
	for i := range 50 {
		frag := []string{"SIP/2.0 180 Ringing", "SIP/2.0 183 Session Progress"}[i%2]
		if i < 25 {
			frag = "SIP/2.0 180 Ringing"
		}
		if res := d.notify("refer", "active", "message/sipfrag", frag); res.StatusCode != 200 {
			t.Fatalf("a ringing NOTIFY: %d", res.StatusCode)
		}
	}
	if m, ok := c.readMessage(300 * time.Millisecond).(*sip.Request); ok && m.Method == sip.BYE {
		t.Fatal("a forged NOTIFY ended the call")
	}
	if participants(ts, "xfer") != 2 {
		t.Fatal("a forged NOTIFY took the caller out of its room")
	}
	d.notify("refer", "terminated;reason=noresource", "message/sipfrag", "SIP/2.0 486 Busy Here")
	progress := 0
	for timeout := time.After(5 * time.Second); ; {
		select {
		case e := <-sub.C:
			if e.Type == "transfer" && e.Data["state"] == "progress" {
				if progress++; progress > maxProgressEvents {
					t.Fatalf("%d progress events from a flood of NOTIFYs", progress)
				}
			}
			if e.Type == "transfer" && e.Data["state"] == "succeeded" {
				t.Fatalf("the transfer succeeded on a forged NOTIFY: %+v", e)
			}
			if e.Type == "transfer" && e.Data["state"] == "failed" {
				if e.Data["status"] != 486 {
					t.Errorf("failed with %+v, want the phone's 486", e)
				}
				d.bye()
				d2.bye()
				waitIdle(t, ts)
				return
			}
		case <-timeout:
			t.Fatal("the phone's 486 NOTIFY did not end the transfer")
		}
	}
}

// TestTransferTargetIsOneSIPURI (red team, issue 13): the target is written in Refer-To as
// <target>: nothing in it may end the header, close the brackets, add a second value or name
// another scheme, and it must fit in a datagram with room to spare.
func TestTransferTargetIsOneSIPURI(t *testing.T) {
	for _, target := range []string{
		"sip:desk@pbx\r\nVia: SIP/2.0/UDP evil", "sip:desk@pbx\nX: y", "sip:desk@pbx>;purpose=x",
		"sip:desk@pbx, <sip:evil@x>", `sip:"desk"@pbx`, "sip:desk@pbx <sip:evil@x>", "sip:", "sip:@",
		"tel:+15550100", "http://pbx/", "mailto:a@b", "sip:desk@pbx\x00", "sip:desk@pbx\t",
		"sip:desk@" + strings.Repeat("a", 4096),
		// A host that is not a host (red team, issue 14): an '@', a comma, a backslash, a
		// percent escape or a slash in it is read differently by a phone that takes the last
		// '@' (user "desk@pbx", host "evil.example") or ends the host elsewhere; a port outside
		// 1-65535 is no port.
		"sip:desk@pbx.example@evil.example", "sip:desk@pbx,evil.example", `sip:desk@pbx\evil.example`,
		"sip:desk@pbx%2eevil.example", "sip:desk@pbx/evil.example", "sip:desk@pbx'x", "sip:desk@pbx:99999",
		"sip:desk@pbx:-1", "sip:desk@-pbx.example",
	} {
		if _, err := parseURI(target); err == nil {
			t.Errorf("target %.80q accepted", target)
		}
	}
	for _, target := range []string{"sip:desk@pbx.example", "sips:+15550100@carrier.example;user=phone", "sip:desk@10.0.0.1:5070;transport=tcp",
		"sip:desk@[2001:db8::1]:5060", "sip:desk@pbx.example.", "sip:desk@pbx-2.example:65535"} {
		if _, err := parseURI(target); err != nil {
			t.Errorf("target %q refused: %v", target, err)
		}
	}
}

// TestLateNOTIFYOfAnEarlierTransferIsRefused (red team, issue 13): the NOTIFYs of a second
// REFER in a dialog carry its CSeq as their Event id (RFC 3515 section 2.4.6). A late "200"
// about the first transfer (one that failed or timed out) arriving during the second gets 481
// and does not end the call as the second's success; the second's own NOTIFYs count.
func TestLateNOTIFYOfAnEarlierTransferIsRefused(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, nil)
	c, d := answeredCall(t, ts, "xfer")
	p, sub := onlyParticipant(t, ts, "xfer")
	ctx := context.Background()

	if err := p.Transfer(ctx, "sip:first@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	first := d.awaitRefer(t, 202).CSeq().SeqNo
	nextTransfer(t, sub) // accepted
	d.notify(fmt.Sprintf("refer;id=%d", first), "terminated", "message/sipfrag", "SIP/2.0 486 Busy Here")
	if e := nextTransfer(t, sub); e.Data["state"] != "failed" {
		t.Fatalf("first transfer: %+v", e)
	}

	testkit.Eventually(t, 5*time.Second, func() bool { return p.Transfer(ctx, "sip:second@127.0.0.1") == nil })
	second := d.awaitRefer(t, 202).CSeq().SeqNo
	nextTransfer(t, sub) // accepted
	if second == first {
		t.Fatalf("both REFERs have CSeq %d", first)
	}
	if res := d.notify(fmt.Sprintf("refer;id=%d", first), "terminated", "message/sipfrag", "SIP/2.0 200 OK"); res.StatusCode != 481 {
		t.Errorf("a late NOTIFY of the first transfer: %d, want 481", res.StatusCode)
	}
	if m, ok := c.readMessage(300 * time.Millisecond).(*sip.Request); ok && m.Method == sip.BYE {
		t.Fatal("the first transfer's late NOTIFY ended the call")
	}
	d.notify(fmt.Sprintf("refer;id=%d", second), "terminated", "message/sipfrag", "SIP/2.0 603 Decline")
	if e := nextTransfer(t, sub); e.Data["state"] != "failed" || e.Data["status"] != 603 || e.Data["uri"] != "sip:second@127.0.0.1" {
		t.Errorf("second transfer: %+v, want failed with the phone's 603", e)
	}
	d.bye()
	waitIdle(t, ts)
}

// TestInDialogFloodIsBounded (red team, issue 13): a caller that floods its own dialog with
// NOTIFYs (or any in-dialog request) passes the per-source request rate, and each request
// became a server transaction kept for Timer J. The call's own budget now drops what is
// beyond dialogRequestBurst at once (and dialogRequestRate a second) before sipgo sees it;
// the call goes on, is answered again once the budget refills, and its BYE always passes.
func TestInDialogFloodIsBounded(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, nil)
	c, d := answeredCall(t, ts, "xfer")
	onlyParticipant(t, ts, "xfer")
	const flood = 1000
	for range flood {
		c.send(d.notifyMessage("refer", "active", "message/sipfrag", "SIP/2.0 180 Ringing"))
	}
	answered := 0
	for {
		res := c.read(time.Second)
		if res == nil {
			break
		}
		if res.CSeq() != nil && res.CSeq().MethodName == sip.NOTIFY {
			answered++
		}
	}
	// The burst, and what the rate refilled while the flood was being sent and answered.
	if answered > dialogRequestBurst+2*dialogRequestRate || answered < dialogRequestBurst/2 {
		t.Errorf("%d of %d flooded NOTIFYs answered, want about %d", answered, flood, dialogRequestBurst)
	}
	time.Sleep(time.Second) // the budget refills by time, nothing to await
	if res := d.notify("refer", "active", "message/sipfrag", "SIP/2.0 180 Ringing"); res.StatusCode != 481 {
		t.Errorf("a NOTIFY after the flood: %d, want 481 (no transfer)", res.StatusCode)
	}
	if participants(ts, "xfer") != 1 {
		t.Fatal("the flood ended the call")
	}
	for range dialogRequestBurst * 2 { // spend the budget again: the BYE must still pass
		c.send(d.notifyMessage("refer", "active", "message/sipfrag", "SIP/2.0 180 Ringing"))
	}
	// Once confd has read the flood (its answers stop), so that the BYE, which the raw client
	// does not retransmit, is not lost in a full socket buffer as any datagram could be.
	for c.read(500*time.Millisecond) != nil {
	}
	d.bye()
	waitIdle(t, ts)
	t.Logf("%d of %d flooded NOTIFYs answered", answered, flood)
}
