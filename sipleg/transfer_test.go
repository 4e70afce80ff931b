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

// TestTransferTargetMustBeAllowedForDialOut: with a dial-out allow-list, a transfer to a
// destination outside it is refused (403) before any REFER, since the phone, a carrier's trunk
// perhaps, would place that call on the operator's account; one inside it is sent.
func TestTransferTargetMustBeAllowedForDialOut(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{DialOut: DialOut{Allow: []string{"+4420", "127.0.0.1"}}}, nil)
	_, d := answeredCall(t, ts, "xfer")
	p, _ := onlyParticipant(t, ts, "xfer")
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
	ts := startServer(t, Config{}, nil)
	c, d := answeredCall(t, ts, "xfer")
	p, sub := onlyParticipant(t, ts, "xfer")
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
	testkit.Eventually(t, 5*time.Second, func() bool { return p.Transfer(ctx, "sip:desk@127.0.0.1") == nil })
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
	testkit.Eventually(t, 5*time.Second, func() bool { return p.Transfer(ctx, "sip:desk@127.0.0.1") == nil })
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
	ts := startServer(t, Config{}, nil)
	_, d := answeredCall(t, ts, "xfer")
	p, sub := onlyParticipant(t, ts, "xfer")
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
