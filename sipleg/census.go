package sipleg

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"

	"confd/bridge"
)

// CensusContentType is the body type of the SIP INFO in which a cascade leg's end tells the
// other node the room's census on its side (bridge/census.go): a JSON bridge.Census. Only a
// cascade leg's dialog takes it (RFC 6086 legacy INFO use, between confd nodes only); any other
// call answers it 415 like any body type it does not know.
const CensusContentType = "application/x-confd-census+json"

// censusSender sends a cascade call's census as SIP INFO, one at a time and in order, the
// latest winning: the room's owner must never wait for the network.
type censusSender struct {
	latest atomic.Pointer[bridge.Census]
	wake   chan struct{}
	start  sync.Once
	// received is the last census the other node sent, kept for the participant when it
	// arrived before the call joined (the caller's INFO may overtake this end's join at the ACK).
	received atomic.Pointer[bridge.Census]
}

// SendCensus implements bridge.CensusLeg: the census goes to the other node from a goroutine
// of the call's own, which lives as long as the call (an INFO in flight is given up when the
// call ends).
func (c *call) SendCensus(cs bridge.Census) {
	if c.cascade == "" {
		return
	}
	c.census.latest.Store(&cs)
	c.census.start.Do(func() {
		c.census.wake = make(chan struct{}, 1)
		go c.sendCensusLoop()
	})
	select {
	case c.census.wake <- struct{}{}:
	default:
	}
}

// sendCensusLoop sends the latest census each time there is a new one, once the dialog is
// confirmed (an INFO before the ACK could overtake it).
func (c *call) sendCensusLoop() {
	if !c.outbound {
		select {
		case <-c.acked:
		case <-c.done:
			return
		}
	}
	var sent *bridge.Census
	for {
		select {
		case <-c.census.wake:
		case <-c.done:
			return
		}
		cs := c.census.latest.Load()
		if cs == sent {
			continue
		}
		sent = cs
		body, _ := json.Marshal(cs) // a struct of ints and a bool: no error
		// An answer is awaited for 64*T1, or until the call ends.
		ctx, cancel := context.WithTimeout(c.ctx, 64*c.s.cfg.t1)
		req, err := c.newInDialogRequest(sip.INFO)
		if err == nil {
			req.AppendHeader(sip.NewHeader("Content-Type", CensusContentType))
			req.SetBody(body)
			var res *sip.Response
			if res, err = c.doInDialog(ctx, req); err == nil && res.StatusCode != 200 {
				c.log.Warn("cascade census refused by the other node", "status", res.StatusCode, "reason", res.Reason)
			}
		}
		cancel()
		if err != nil {
			c.log.Warn("cascade census not sent", "err", err)
		}
	}
}

// censusInfo answers a census INFO: taken from a cascade leg's dialog (200), refused from any
// other call (415, as a body type this call does not take) and for a body that is no census
// (400).
func (c *call) censusInfo(req *sip.Request, tx sip.ServerTransaction) {
	if c.cascade == "" {
		respond(tx, req, 415, "Unsupported Media Type (a census is for cascade legs)")
		return
	}
	var cs bridge.Census
	if err := json.Unmarshal(req.Body(), &cs); err != nil {
		respond(tx, req, 400, "Bad Request (census: "+err.Error()+")")
		return
	}
	c.census.received.Store(&cs)
	if p := c.part.Load(); p != nil {
		p.SetCensus(cs)
	} // else join applies it
	respond(tx, req, 200, "OK")
}
