package sipleg

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"confd/bridge"
)

// transferTimeout bounds a transfer from the REFER to the NOTIFY that reports the target's
// final answer: the 60 s of the implicit subscription that common phones grant a REFER
// (RFC 3515 section 2.4.4 leaves it to the recipient; baresip's is 60 s), time enough for the
// target to ring for a while. A variable so that a test can shorten it.
var transferTimeout = 60 * time.Second

// maxProgressEvents bounds the "progress" events of one transfer: a real one has a few (100
// Trying, 180 Ringing, 183 Session Progress), and a flood of NOTIFYs must not become a flood
// of events.
const maxProgressEvents = 8

// transfer is a call's transfer out of the room in progress (RFC 3515): the target, and the
// status lines of the NOTIFYs that report on it, handed from the NOTIFY handler to the
// goroutine that sent the REFER.
type transfer struct {
	target string
	notes  chan referNote
	// cseq is the REFER's CSeq number once its answer came (0 before): a NOTIFY whose Event
	// id names another REFER reports on an earlier transfer (RFC 3515 section 2.4.6).
	cseq atomic.Uint32
}

// referNote is what one NOTIFY of the refer event package said: the status line of its
// message/sipfrag body (RFC 3420) and whether it ended the subscription.
type referNote struct {
	status     int
	reason     string
	terminated bool
}

// Transfer implements bridge.TransferLeg: it sends REFER in the call's dialog (RFC 3515
// section 2.4.1), asking the phone to call target, and returns at once. The REFER names confd
// in Referred-By (RFC 3892). The phone's answer and the NOTIFYs that follow (section 2.4.5:
// message/sipfrag status lines) are published as bridge.EventTransfer; when a NOTIFY reports
// a 2xx the call is ended with a BYE and leaves the room as "transferred"; a refusal, a 3xx-6xx
// or no final NOTIFY within transferTimeout leaves it in the room. A target outside
// Config.DialOut.Allow is refused with ErrDialNotAllowed (403), as a dial-out to it would be.
func (c *call) Transfer(_ context.Context, target string) error {
	if c.cascade != "" {
		return fmt.Errorf("%w: a cascade leg to node %s", bridge.ErrNotTransferable, c.cascade)
	}
	u, err := parseURI(target)
	if err != nil {
		return err
	}
	if err := c.s.dialOut.allows(u); err != nil {
		return err
	}
	if !c.isConfirmed() {
		return fmt.Errorf("%w: the call is not confirmed yet (no ACK)", bridge.ErrNotTransferable)
	}
	x := &transfer{target: target, notes: make(chan referNote, 8)}
	if !c.xfer.CompareAndSwap(nil, x) {
		return fmt.Errorf("%w: a transfer of this call is already in progress", bridge.ErrNotTransferable)
	}
	go c.refer(x)
	return nil
}

// refer runs one transfer: the REFER, then the NOTIFYs until a final status, a terminated
// subscription or the timeout.
func (c *call) refer(x *transfer) {
	defer c.xfer.CompareAndSwap(x, nil)
	ctx, cancel := context.WithTimeout(c.s.ctx, transferTimeout)
	defer cancel()
	p := c.part.Load()
	report := func(state string, status int, reason string) {
		data := map[string]any{"uri": x.target, "state": state}
		if status != 0 {
			data["status"] = status
		}
		if reason != "" {
			data["reason"] = reason
		}
		if p != nil {
			p.PublishTransfer(data)
		}
		c.log.Info("transfer", "target", x.target, "state", state, "status", status, "reason", reason)
	}
	res, cseq, err := c.sendRefer(ctx, x.target)
	x.cseq.Store(cseq)
	switch {
	case err != nil:
		report("failed", 0, "REFER: "+err.Error())
		return
	case res.StatusCode >= 300:
		report("failed", res.StatusCode, "REFER refused: "+res.Reason)
		return
	}
	report("accepted", res.StatusCode, res.Reason)
	progress, lastProgress := 0, 0
	for {
		select {
		case n := <-x.notes:
			switch {
			case n.status >= 200 && n.status < 300:
				report("succeeded", n.status, n.reason)
				c.hangup(c.s.ctx, "transferred")
				return
			case n.status >= 300:
				report("failed", n.status, n.reason)
				return
			case n.terminated:
				report("failed", n.status, "subscription terminated without a final status")
				return
			case n.status > 0 && n.status != lastProgress && progress < maxProgressEvents:
				// A phone that floods provisional NOTIFYs (each one answered) would otherwise
				// flood the event stream and every webhook's queue with them (red team,
				// issue 13): a change of status is news, a repeat is not, and a transfer has
				// only a few real steps (100, 180, 183).
				progress, lastProgress = progress+1, n.status
				report("progress", n.status, n.reason)
			}
		case <-c.done:
			return // the call ended meanwhile: its leave says why
		case <-ctx.Done():
			report("failed", 0, fmt.Sprintf("no final NOTIFY within %v", transferTimeout))
			return
		}
	}
}

// sendRefer sends the REFER to the dialog's remote target and returns the final response and
// the REFER's CSeq number.
func (c *call) sendRefer(ctx context.Context, target string) (*sip.Response, uint32, error) {
	req, err := c.newInDialogRequest(sip.REFER)
	if err != nil {
		return nil, 0, err
	}
	req.AppendHeader(sip.NewHeader("Refer-To", "<"+target+">"))
	c.s.mu.Lock()
	self := c.s.contact.Address
	c.s.mu.Unlock()
	req.AppendHeader(sip.NewHeader("Referred-By", "<"+self.String()+">"))
	res, err := c.doInDialog(ctx, req)
	var cseq uint32
	if h := req.CSeq(); h != nil {
		cseq = h.SeqNo // set by the dialog as it sent the REFER
	}
	return res, cseq, err
}

// notify answers a NOTIFY in the call's dialog: the refer event package's report on a transfer
// (RFC 3515 section 2.4.4), whose message/sipfrag body's status line (RFC 3420) goes to the
// transfer in progress. Any other event is 489 (RFC 6665 section 8.5); a NOTIFY when no
// transfer is in progress is 481, which ends the phone's subscription.
func (c *call) notify(req *sip.Request, tx sip.ServerTransaction) {
	ev := req.GetHeader("Event")
	if ev == nil || !strings.EqualFold(strings.TrimSpace(strings.SplitN(ev.Value(), ";", 2)[0]), "refer") {
		respond(tx, req, 489, "Bad Event", sip.NewHeader("Allow-Events", "refer"))
		return
	}
	x := c.xfer.Load()
	if x == nil {
		respond(tx, req, 481, "Subscription Does Not Exist")
		return
	}
	// A NOTIFY about an earlier REFER of this dialog (its Event id is that REFER's CSeq, RFC
	// 3515 section 2.4.6) — a late 200 of a transfer that timed out — must not end the call
	// as the current transfer's success (red team, issue 13).
	if id, ok := eventID(ev.Value()); ok {
		if cur := x.cseq.Load(); cur != 0 && id != cur {
			respond(tx, req, 481, "Subscription Does Not Exist")
			return
		}
	}
	n := referNote{}
	if st := req.GetHeader("Subscription-State"); st != nil {
		n.terminated = strings.EqualFold(strings.TrimSpace(strings.SplitN(st.Value(), ";", 2)[0]), "terminated")
	}
	if len(req.Body()) > 0 {
		ct := ""
		if h := req.ContentType(); h != nil {
			ct = h.Value()
		}
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "message/sipfrag" {
			respond(tx, req, 415, "Unsupported Media Type", sip.NewHeader("Accept", "message/sipfrag"))
			return
		}
		var ok bool
		if n.status, n.reason, ok = sipfragStatus(req.Body()); !ok {
			respond(tx, req, 400, "Bad Request (message/sipfrag without a status line)")
			return
		}
	}
	respond(tx, req, 200, "OK")
	select {
	case x.notes <- n:
	default: // a phone that floods NOTIFYs loses the extra provisional ones
	}
}

// eventID returns the id parameter of an Event header value ("refer;id=93809824"), when it
// has a numeric one.
func eventID(v string) (uint32, bool) {
	_, params, _ := strings.Cut(v, ";")
	for p := range strings.SplitSeq(params, ";") {
		name, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(name), "id") {
			n, err := strconv.ParseUint(strings.TrimSpace(val), 10, 32)
			return uint32(n), err == nil
		}
	}
	return 0, false
}

// sipfragStatus reads the status line that starts a message/sipfrag body (RFC 3420 section 2;
// RFC 3515 section 2.4.5 asks for at least the status line): "SIP/2.0 180 Ringing".
func sipfragStatus(body []byte) (int, string, bool) {
	line, _, _ := bufio.NewReader(bytes.NewReader(body)).ReadLine()
	f := strings.SplitN(strings.TrimSpace(string(line)), " ", 3)
	if len(f) < 2 || !strings.EqualFold(f[0], "SIP/2.0") {
		return 0, "", false
	}
	code, err := strconv.Atoi(f[1])
	if err != nil || code < 100 || code > 699 {
		return 0, "", false
	}
	reason := ""
	if len(f) == 3 {
		reason = f[2]
	}
	return code, reason, true
}
