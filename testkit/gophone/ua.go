package gophone

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// sipT1 is RFC 3261's round-trip estimate: a request over UDP is sent again after T1, then
// after doubling intervals (section 17.1.1.2).
const sipT1 = 500 * time.Millisecond

// UA is a minimal SIP user agent over one UDP socket on 127.0.0.1 (RFC 3261), the signalling
// of every Go phone of the tests: INVITE with an SDP offer (retransmitted until a response
// comes), ACK of the 2xx (again for each retransmitted 2xx, section 13.2.2.4), BYE, and
// answers to what confd sends: 200 to a BYE (which ends the dialog), to OPTIONS and INFO, 488
// to a re-INVITE (it does not renegotiate). A Phone has a UA of its own; a load generator
// places thousands of dialogs on one. It is safe for concurrent use.
type UA struct {
	conn   *net.UDPConn
	local  netip.AddrPort
	server netip.AddrPort

	mu      sync.Mutex
	dialogs map[string]*Dialog // by Call-ID
	done    chan struct{}
}

// NewUA opens the UA's socket on 127.0.0.1 for calls to server.
func NewUA(server netip.AddrPort) (*UA, error) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	// A generator's thousand dialogs answer at once.
	_ = conn.SetReadBuffer(4 << 20)
	u := &UA{conn: conn, local: conn.LocalAddr().(*net.UDPAddr).AddrPort(), server: server,
		dialogs: map[string]*Dialog{}, done: make(chan struct{})}
	go u.read()
	return u, nil
}

// Close closes the socket and waits for the reader to end.
func (u *UA) Close() error {
	err := u.conn.Close()
	<-u.done
	return err
}

// Dialog is one call the UA placed (RFC 3261 section 12), confirmed once the 2xx has been
// acknowledged.
type Dialog struct {
	u       *UA
	callID  string
	tag     string // From tag
	user    string
	name    string
	room    string
	answer  []byte // the 2xx's SDP
	resps   chan sipMessage
	ended   chan struct{}
	endOnce sync.Once

	mu        sync.Mutex
	toTag     string
	target    string // the 2xx's Contact: where in-dialog requests go
	ack       []byte // resent for every retransmitted 2xx
	cseq      int
	endReason string
}

// Invite places a call from user (display name name, RFC 3261 section 20.20; empty is user)
// into room with the SDP offer sdp, and returns the dialog once the 2xx is acknowledged. A final
// status of 300 or more is a *StatusError (ErrRefused); no final response before ctx ends is
// ErrTimeout.
func (u *UA) Invite(ctx context.Context, user, name, room string, sdp []byte) (*Dialog, error) {
	if name == "" {
		name = user
	}
	d := &Dialog{u: u, callID: hex.EncodeToString(randomBytes(8)) + "@127.0.0.1", tag: hex.EncodeToString(randomBytes(4)),
		user: user, name: name, room: room, resps: make(chan sipMessage, 16), ended: make(chan struct{}), cseq: 1}
	u.mu.Lock()
	u.dialogs[d.callID] = d
	u.mu.Unlock()
	uri := fmt.Sprintf("sip:%s@%s", room, u.server)
	d.target = uri
	resp, err := d.transact(ctx, d.request("INVITE", uri, 1, "application/sdp", sdp), "INVITE")
	if err == nil && resp.status >= 300 {
		err = &StatusError{Method: "INVITE", URI: uri, Code: resp.status}
	}
	if err != nil {
		u.forget(d)
		return nil, err
	}
	d.mu.Lock()
	d.toTag = headerParam(resp.get("to"), "tag")
	if c := contactURI(resp.get("contact")); c != "" {
		d.target = c
	}
	d.answer = resp.body
	d.ack = d.request("ACK", d.target, 1, "", nil)
	ack := d.ack
	d.mu.Unlock()
	if _, err := u.conn.WriteToUDPAddrPort(ack, u.server); err != nil {
		u.forget(d)
		return nil, err
	}
	return d, nil
}

func (u *UA) forget(d *Dialog) {
	u.mu.Lock()
	delete(u.dialogs, d.callID)
	u.mu.Unlock()
}

// StatusError is a final response of 300 or more (RFC 3261 section 21) to a request.
type StatusError struct {
	Method, URI string
	Code        int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%v: %s %s: %d", ErrRefused, e.Method, e.URI, e.Code)
}

// Unwrap makes errors.Is(err, ErrRefused) hold.
func (e *StatusError) Unwrap() error { return ErrRefused }

// Answer returns the SDP answer of the 2xx.
func (d *Dialog) Answer() []byte { return d.answer }

// Ended is closed when the dialog has ended, by a BYE from either side.
func (d *Dialog) Ended() <-chan struct{} { return d.ended }

// EndReason says how the dialog ended: "bye from confd", "hung up", or "" while it goes on.
func (d *Dialog) EndReason() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.endReason
}

func (d *Dialog) end(reason string) {
	d.endOnce.Do(func() {
		d.mu.Lock()
		d.endReason = reason
		d.mu.Unlock()
		close(d.ended)
	})
}

// Bye sends BYE and waits for its final response (or ctx). It returns ErrEnded when confd had
// already ended the call.
func (d *Dialog) Bye(ctx context.Context) error {
	defer d.u.forget(d)
	select {
	case <-d.ended:
		return ErrEnded
	default:
	}
	d.mu.Lock()
	d.cseq++
	req := d.request("BYE", d.target, d.cseq, "", nil)
	d.mu.Unlock()
	_, err := d.transact(ctx, req, "BYE")
	d.end("hung up")
	return err
}

// request builds an in-dialog or initial request; each gets a fresh branch (RFC 3261 section
// 8.1.1.7) and rport (RFC 3581), so confd answers to the socket it came from.
func (d *Dialog) request(method, uri string, cseq int, contentType string, body []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, uri)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\n", d.u.local, hex.EncodeToString(randomBytes(6)))
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: \"%s\" <sip:%s@127.0.0.1>;tag=%s\r\n", d.name, d.user, d.tag)
	to := fmt.Sprintf("<sip:%s@%s>", d.room, d.u.server.Addr())
	if d.toTag != "" {
		to += ";tag=" + d.toTag
	}
	fmt.Fprintf(&b, "To: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n", to, d.callID, cseq, method)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s>\r\n", d.user, d.u.local)
	if contentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", contentType)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.Write(body)
	return []byte(b.String())
}

// transact sends req and returns its final response, retransmitting on RFC 3261's UDP timer
// until a provisional or final response arrives, within ctx.
func (d *Dialog) transact(ctx context.Context, req []byte, method string) (sipMessage, error) {
	interval, heard := sipT1, false
	retransmit := time.NewTimer(interval)
	defer retransmit.Stop()
	if _, err := d.u.conn.WriteToUDPAddrPort(req, d.u.server); err != nil {
		return sipMessage{}, err
	}
	for {
		select {
		case <-ctx.Done():
			return sipMessage{}, fmt.Errorf("%w: %s from %s: %w", ErrTimeout, method, d.user, ctx.Err())
		case r := <-d.resps:
			if r.cseqMethod() != method {
				continue
			}
			if r.status >= 200 {
				return r, nil
			}
			heard = true
		case <-retransmit.C:
			if !heard {
				if _, err := d.u.conn.WriteToUDPAddrPort(req, d.u.server); err != nil {
					return sipMessage{}, err
				}
			}
			interval = min(2*interval, 4*time.Second)
			retransmit.Reset(interval)
		}
	}
}

// read hands responses to their dialog's transaction, ACKs a retransmitted 2xx, and answers
// confd's requests.
func (u *UA) read() {
	defer close(u.done)
	buf := make([]byte, 65535)
	for {
		n, src, err := u.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		m, ok := parseSIP(buf[:n])
		if !ok {
			continue
		}
		u.mu.Lock()
		d := u.dialogs[m.get("call-id")]
		u.mu.Unlock()
		if m.status > 0 {
			if d == nil {
				continue
			}
			d.mu.Lock()
			ack := d.ack
			d.mu.Unlock()
			if ack != nil && m.cseqMethod() == "INVITE" && m.status < 300 {
				_, _ = u.conn.WriteToUDPAddrPort(ack, u.server) // a retransmitted 2xx
				continue
			}
			select {
			case d.resps <- m:
			default:
			}
			continue
		}
		var answer []byte
		switch m.method {
		case "ACK":
		case "BYE":
			answer = response(m, 200, "OK", "")
			if d != nil {
				d.end("bye from confd")
			}
		case "INVITE":
			answer = response(m, 488, "Not Acceptable Here", "")
		default:
			answer = response(m, 200, "OK", "")
		}
		if answer != nil {
			_, _ = u.conn.WriteToUDPAddrPort(answer, src)
		}
	}
}
