package sipleg

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"confd/bridge"
	"confd/testkit"
)

// notify sends a NOTIFY of event in the dialog (as the transferee's phone would) with a
// message/sipfrag body when frag is set, and returns confd's answer.
func (d *dialog) notify(event, state, contentType, frag string) *sip.Response {
	c := d.c
	c.send(d.notifyMessage(event, state, contentType, frag))
	for {
		res := c.read(3 * time.Second)
		if res == nil {
			c.t.Fatal("NOTIFY not answered")
		}
		if res.CSeq() != nil && res.CSeq().SeqNo == d.cseq && res.CSeq().MethodName == sip.NOTIFY {
			return res
		}
	}
}

// notifyMessage is the dialog's next NOTIFY (notify), not sent.
func (d *dialog) notifyMessage(event, state, contentType, frag string) []byte {
	c := d.c
	d.cseq++
	body := ""
	ct := ""
	if frag != "" {
		body = frag + "\r\n"
		ct = "Content-Type: " + contentType + "\r\n"
	}
	return []byte(fmt.Sprintf("NOTIFY sip:confd@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKn%d\r\nFrom: \"Tester\" <sip:tester@127.0.0.1>;tag=caller1\r\n"+
		"To: <sip:xfer@%s>;tag=%s\r\nCall-ID: %s\r\nCSeq: %d NOTIFY\r\nContact: <sip:tester@%s>\r\nMax-Forwards: 70\r\n"+
		"Event: %s\r\nSubscription-State: %s\r\n%sContent-Length: %d\r\n\r\n%s",
		c.srv.String(), c.localAddr(), time.Now().UnixNano(), c.srv.String(), d.toTag, d.callID, d.cseq, c.localAddr(),
		event, state, ct, len(body), body))
}

// awaitRefer reads until confd's REFER arrives and answers it with status.
func (d *dialog) awaitRefer(t *testing.T, status int) *sip.Request {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if req, ok := d.c.readMessage(time.Until(deadline)).(*sip.Request); ok && req.Method == sip.REFER {
			d.c.send([]byte(sip.NewResponseFromRequest(req, status, "Whatever", nil).String()))
			return req
		}
	}
	t.Fatal("no REFER")
	return nil
}

// nextTransfer returns the next transfer event.
func nextTransfer(t *testing.T, sub *bridge.Subscription) bridge.Event {
	t.Helper()
	return testkit.Receive(t, sub.C, 5*time.Second, "transfer event", func(e bridge.Event) bool { return e.Type == bridge.EventTransfer })
}

// startTransferee starts a server with cfg and one caller in room "xfer" (answeredCall), the one
// a transfer test transfers, and returns it once it has joined, with its participant and a
// subscription to the room's events (closed when the test ends).
func startTransferee(t *testing.T, cfg Config) (*testServer, *rawClient, *dialog, *bridge.Participant, *bridge.Subscription) {
	t.Helper()
	ts := startServer(t, cfg, nil)
	c, d := answeredCall(t, ts, "xfer")
	waitParticipants(t, ts, "xfer", 1)
	r, _ := ts.bridge.Room("xfer")
	sub := ts.bridge.Bus().Subscribe("xfer", 64, "")
	t.Cleanup(sub.Close)
	return ts, c, d, r.Participants()[0], sub
}

// TestTransferTargetMustBeAllowedForDialOut: with a dial-out allow-list, a transfer to a
// destination outside it is refused (403) before any REFER, since the phone, a carrier's trunk
// perhaps, would place that call on the operator's account; one inside it is sent.
func TestTransferTargetMustBeAllowedForDialOut(t *testing.T) {
	t.Parallel()
	_, _, d, p, _ := startTransferee(t, Config{DialOut: DialOut{Allow: []string{"+4420", "127.0.0.1"}}})
	ctx := context.Background()
	for _, target := range []string{"sip:+19005550100@127.0.0.1", "sip:+442071234567@premium.example"} {
		err := p.Transfer(ctx, target)
		if st, _ := bridge.StatusOf(err); !errors.Is(err, ErrDialNotAllowed) || st.HTTP != 403 {
			t.Errorf("transfer to %s: %v (HTTP %d), want ErrDialNotAllowed, 403", target, err, st.HTTP)
		}
	}
	if err := p.Transfer(ctx, "sip:+442071234567@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if req := d.awaitRefer(t, 603); req.GetHeader("Refer-To").Value() != "<sip:+442071234567@127.0.0.1>" {
		t.Errorf("Refer-To %v", req.GetHeader("Refer-To"))
	}
}

// TestTransferREFERAndItsNOTIFYs: confd's REFER is in the caller's dialog with Refer-To and
// Referred-By; a refused REFER, and a NOTIFY with a 4xx, leave the caller in its room as
// "failed" events; provisional NOTIFYs are "progress"; NOTIFYs of another event are 489, outside
// a transfer 481, with a body that is not message/sipfrag 415; a 2xx NOTIFY ends the call with a
// BYE and the participant leaves as transferred.
func TestTransferREFERAndItsNOTIFYs(t *testing.T) {
	t.Parallel()
	ts, c, d, p, sub := startTransferee(t, Config{})
	ctx := context.Background()

	if err := p.Transfer(ctx, "tel:+15550100"); !errors.Is(err, bridge.ErrBadSetting) {
		t.Errorf("a tel: target: %v, want ErrBadSetting", err)
	}
	if res := d.notify("refer", "active", "message/sipfrag", "SIP/2.0 100 Trying"); res.StatusCode != 481 {
		t.Errorf("a NOTIFY outside a transfer: %d, want 481", res.StatusCode)
	}

	// 1. The phone refuses the REFER.
	if err := p.Transfer(ctx, "sip:desk@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	req := d.awaitRefer(t, 603)
	if h := req.GetHeader("Refer-To"); h == nil || h.Value() != "<sip:desk@127.0.0.1>" {
		t.Errorf("Refer-To %v", h)
	}
	if h := req.GetHeader("Referred-By"); h == nil || !strings.Contains(h.Value(), "sip:confd@") {
		t.Errorf("Referred-By %v", h)
	}
	if tag, _ := req.To().Params.Get("tag"); tag != "caller1" || req.CallID().Value() != d.callID {
		t.Errorf("the REFER is not in the caller's dialog: To %s, Call-ID %s", req.To().Value(), req.CallID().Value())
	}
	if e := nextTransfer(t, sub); e.Data["state"] != "failed" || e.Data["status"] != 603 {
		t.Errorf("after a 603 to the REFER: %+v", e)
	}

	// 2. Accepted, rings, then the target is busy.
	testkit.Eventually(t, 5*time.Second, "a new transfer is refused after the last one ended", func() bool { return p.Transfer(ctx, "sip:desk@127.0.0.1") == nil })
	refer := d.awaitRefer(t, 202)
	if e := nextTransfer(t, sub); e.Data["state"] != "accepted" || e.Data["status"] != 202 {
		t.Errorf("after the 202: %+v", e)
	}
	if err := p.Transfer(ctx, "sip:other@127.0.0.1"); !errors.Is(err, bridge.ErrNotTransferable) {
		t.Errorf("a second transfer during the first: %v, want ErrNotTransferable", err)
	}
	if res := d.notify("presence", "active", "message/sipfrag", "SIP/2.0 180 Ringing"); res.StatusCode != 489 {
		t.Errorf("a NOTIFY of another event: %d, want 489", res.StatusCode)
	}
	if res := d.notify("refer", "active", "text/plain", "SIP/2.0 180 Ringing"); res.StatusCode != 415 {
		t.Errorf("a NOTIFY with a text/plain body: %d, want 415", res.StatusCode)
	}
	if res := d.notify(fmt.Sprintf("refer;id=%d", refer.CSeq().SeqNo), "active;expires=60", "message/sipfrag", "SIP/2.0 180 Ringing"); res.StatusCode != 200 {
		t.Errorf("a ringing NOTIFY: %d", res.StatusCode)
	}
	if e := nextTransfer(t, sub); e.Data["state"] != "progress" || e.Data["status"] != 180 {
		t.Errorf("after a 180 NOTIFY: %+v", e)
	}
	d.notify("refer", "terminated;reason=noresource", "message/sipfrag", "SIP/2.0 486 Busy Here")
	if e := nextTransfer(t, sub); e.Data["state"] != "failed" || e.Data["status"] != 486 {
		t.Errorf("after a 486 NOTIFY: %+v", e)
	}
	if participants(ts, "xfer") != 1 {
		t.Fatal("the caller left its room after a failed transfer")
	}

	// 3. The target answers: confd hangs up, the participant leaves as transferred.
	testkit.Eventually(t, 5*time.Second, "a new transfer is refused after the last one ended", func() bool { return p.Transfer(ctx, "sip:desk@127.0.0.1") == nil })
	d.awaitRefer(t, 202)
	nextTransfer(t, sub) // accepted
	d.notify("refer", "terminated;reason=noresource", "message/sipfrag", "SIP/2.0 200 OK")
	if e := nextTransfer(t, sub); e.Data["state"] != "succeeded" || e.Data["status"] != 200 {
		t.Errorf("after a 200 NOTIFY: %+v", e)
	}
	var bye bool
	for deadline := time.Now().Add(5 * time.Second); !bye && time.Now().Before(deadline); {
		if req, ok := c.readMessage(time.Until(deadline)).(*sip.Request); ok && req.Method == sip.BYE {
			c.send([]byte(sip.NewResponseFromRequest(req, 200, "OK", nil).String()))
			bye = true
		}
	}
	if !bye {
		t.Fatal("no BYE after the transfer succeeded")
	}
	e := testkit.Receive(t, sub.C, 5*time.Second, "leave after the transfer", func(e bridge.Event) bool { return e.Type == bridge.EventLeave })
	if e.Data["reason"] != "transferred" {
		t.Errorf("leave %+v, want reason transferred", e)
	}
	waitIdle(t, ts)
}

// TestTransferWithoutAFinalNOTIFYFails: a phone that accepts the REFER and then says nothing
// leaves the transfer "failed" after transferTimeout, and the caller in its room. Not parallel:
// it shortens transferTimeout.
func TestTransferWithoutAFinalNOTIFYFails(t *testing.T) {
	defer func(d time.Duration) { transferTimeout = d }(transferTimeout)
	transferTimeout = 300 * time.Millisecond
	ts, _, d, p, sub := startTransferee(t, Config{})
	if err := p.Transfer(context.Background(), "sip:desk@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	d.awaitRefer(t, 202)
	nextTransfer(t, sub) // accepted
	if e := nextTransfer(t, sub); e.Data["state"] != "failed" || !strings.Contains(fmt.Sprint(e.Data["reason"]), "no final NOTIFY") {
		t.Errorf("without a NOTIFY: %+v, want failed for want of a final NOTIFY", e)
	}
	if participants(ts, "xfer") != 1 {
		t.Error("the caller left its room after a transfer that timed out")
	}
	d.bye()
	waitIdle(t, ts)
}

// TestSipfragStatus reads the status line of message/sipfrag bodies (RFC 3420).
func TestSipfragStatus(t *testing.T) {
	for body, want := range map[string]int{
		"SIP/2.0 200 OK\r\n": 200, "SIP/2.0 180 Ringing": 180, "sip/2.0 603 Decline\r\nVia: x\r\n": 603,
		"SIP/2.0 100": 100, "SIP/2.0 99 Low": 0, "HTTP/1.1 200 OK": 0, "": 0, "SIP/2.0 abc": 0,
	} {
		got, _, ok := sipfragStatus([]byte(body))
		if got != want || ok != (want != 0) {
			t.Errorf("%q: %d %v, want %d", body, got, ok, want)
		}
	}
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
		// What sends the call elsewhere than the host the allow-list checks (red team of
		// the transfer allow-list): a maddr, URI headers such as a Route.
		"sip:+442071234567@127.0.0.1;maddr=evil.example", "sip:desk@pbx.example;MADDR=evil.example",
		"sip:+442071234567@127.0.0.1?Route=%3Csip:evil.example%3Blr%3E", "sip:desk@pbx.example?subject=x",
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
	ts, c, d, p, sub := startTransferee(t, Config{})
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

	testkit.Eventually(t, 5*time.Second, "the second transfer is refused", func() bool { return p.Transfer(ctx, "sip:second@127.0.0.1") == nil })
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
	ts, c, d, _, _ := startTransferee(t, Config{})
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
