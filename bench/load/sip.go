package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sipT1 is RFC 3261's round-trip estimate: the first retransmission interval of a request over
// UDP, doubled on each retransmission (section 17.1.1.2).
const sipT1 = 500 * time.Millisecond

// UAC is a minimal SIP user agent client over one UDP socket, just what a load generator needs
// to place thousands of calls cheaply (RFC 3261): INVITE with an SDP offer (retransmitted until
// a response comes), ACK of the 2xx (again for each retransmitted 2xx), and BYE. Responses are
// matched to calls by Call-ID and CSeq method. It is safe for concurrent use.
type UAC struct {
	conn   *net.UDPConn
	local  netip.AddrPort
	server netip.AddrPort
	run    string

	mu    sync.Mutex
	calls map[string]*SIPCall
	done  chan struct{}
}

// SIPCall is one dialog the UAC placed.
type SIPCall struct {
	u       *UAC
	callID  string
	fromTag string
	user    string
	room    string
	// Remote is the media address in the answer's SDP (c= and m= lines).
	Remote netip.AddrPort
	toTag  string
	target string // the 2xx's Contact URI: where in-dialog requests go
	ack    []byte
	cseq   int
	resp   chan sipResponse
}

type sipResponse struct {
	code   int
	method string
	toTag  string
	target string
	body   []byte
}

// NewUAC opens the UAC's socket on 127.0.0.1 for calls to server.
func NewUAC(server netip.AddrPort) (*UAC, error) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	_ = conn.SetReadBuffer(4 << 20)
	u := &UAC{conn: conn, local: conn.LocalAddr().(*net.UDPAddr).AddrPort(), server: server,
		run: strconv.FormatInt(time.Now().UnixNano(), 36), calls: map[string]*SIPCall{}, done: make(chan struct{})}
	go u.read()
	return u, nil
}

// Close closes the socket.
func (u *UAC) Close() error {
	err := u.conn.Close()
	<-u.done
	return err
}

func (u *UAC) read() {
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
		u.handle(buf[:n], src)
	}
}

// handle dispatches one datagram: a response to its call; a request from confd (a BYE at
// its shutdown) is answered 200.
func (u *UAC) handle(msg []byte, src netip.AddrPort) {
	head, body, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\r\n")
	var callID, cseq, to, contact string
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "call-id", "i":
			callID = value
		case "cseq":
			cseq = value
		case "to", "t":
			to = value
		case "contact", "m":
			contact = value
		}
	}
	if !strings.HasPrefix(lines[0], "SIP/2.0 ") {
		u.answerRequest(lines, src)
		return
	}
	code, err := strconv.Atoi(strings.Fields(lines[0])[1])
	if err != nil {
		return
	}
	u.mu.Lock()
	c := u.calls[callID]
	u.mu.Unlock()
	if c == nil {
		return
	}
	_, method, _ := strings.Cut(cseq, " ")
	r := sipResponse{code: code, method: strings.TrimSpace(method), toTag: param(to, "tag"),
		target: uriOf(contact), body: bytes.Clone(body)}
	if r.method == "INVITE" && code >= 200 && code < 300 {
		u.mu.Lock()
		ack := c.ack
		u.mu.Unlock()
		if ack != nil { // a retransmitted 2xx: our ACK was lost or late (RFC 3261 section 13.2.2.4)
			_, _ = u.conn.WriteToUDPAddrPort(ack, u.server)
			return
		}
	}
	select {
	case c.resp <- r:
	default:
	}
}

// answerRequest answers a request from confd 200 OK, echoing the headers a response copies
// (RFC 3261 section 8.2.6.2).
func (u *UAC) answerRequest(lines []string, src netip.AddrPort) {
	if strings.HasPrefix(lines[0], "ACK ") {
		return
	}
	var b strings.Builder
	b.WriteString("SIP/2.0 200 OK\r\n")
	for _, l := range lines[1:] {
		name, _, _ := strings.Cut(l, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "via", "v", "from", "f", "to", "t", "call-id", "i", "cseq":
			b.WriteString(l + "\r\n")
		}
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	_, _ = u.conn.WriteToUDPAddrPort([]byte(b.String()), src)
}

// param returns a header parameter's value (";tag=x").
func param(h, name string) string {
	for _, p := range strings.Split(h, ";")[1:] {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// uriOf returns the URI of a name-addr ("<sip:x@h>;p") or addr-spec.
func uriOf(h string) string {
	if i := strings.IndexByte(h, '<'); i >= 0 {
		if j := strings.IndexByte(h[i:], '>'); j > 0 {
			return h[i+1 : i+j]
		}
	}
	uri, _, _ := strings.Cut(h, ";")
	return strings.TrimSpace(uri)
}

// Invite places call number i from user into room with the SDP offer sdp, and returns the
// confirmed dialog once the 2xx is acknowledged.
func (u *UAC) Invite(ctx context.Context, i int, user, room string, sdp []byte) (*SIPCall, error) {
	c := &SIPCall{u: u, callID: fmt.Sprintf("load-%s-%d@127.0.0.1", u.run, i), fromTag: fmt.Sprintf("f%d", i),
		user: user, room: room, cseq: 1, resp: make(chan sipResponse, 8)}
	u.mu.Lock()
	u.calls[c.callID] = c
	u.mu.Unlock()
	uri := fmt.Sprintf("sip:%s@%s", room, u.server)
	req := c.request("INVITE", uri, "", 1, "application/sdp", sdp)
	r, err := c.transact(ctx, req, "INVITE")
	if err != nil {
		return nil, err
	}
	if r.code >= 300 {
		return nil, fmt.Errorf("load: INVITE %s: %d", room, r.code)
	}
	c.toTag, c.target = r.toTag, r.target
	if c.target == "" {
		c.target = uri
	}
	if c.Remote, err = sdpMedia(r.body); err != nil {
		return nil, err
	}
	ack := c.request("ACK", c.target, c.toTag, 1, "", nil)
	u.mu.Lock()
	c.ack = ack
	u.mu.Unlock()
	if _, err := u.conn.WriteToUDPAddrPort(ack, u.server); err != nil {
		return nil, err
	}
	return c, nil
}

// Bye ends the call and waits for the answer (or ctx).
func (c *SIPCall) Bye(ctx context.Context) error {
	c.cseq++
	_, err := c.transact(ctx, c.request("BYE", c.target, c.toTag, c.cseq, "", nil), "BYE")
	c.u.mu.Lock()
	delete(c.u.calls, c.callID)
	c.u.mu.Unlock()
	return err
}

// transact sends req, retransmitting it on RFC 3261's UDP timer until a response arrives, and
// returns the final response.
func (c *SIPCall) transact(ctx context.Context, req []byte, method string) (sipResponse, error) {
	interval, provisional := sipT1, false
	timer := time.NewTimer(interval)
	defer timer.Stop()
	if _, err := c.u.conn.WriteToUDPAddrPort(req, c.u.server); err != nil {
		return sipResponse{}, err
	}
	for {
		select {
		case <-ctx.Done():
			return sipResponse{}, fmt.Errorf("load: %s %s: %w", method, c.callID, ctx.Err())
		case r := <-c.resp:
			if r.method != method {
				continue
			}
			if r.code < 200 {
				provisional = true
				continue
			}
			return r, nil
		case <-timer.C:
			if !provisional {
				_, _ = c.u.conn.WriteToUDPAddrPort(req, c.u.server)
			}
			interval = min(2*interval, 4*time.Second)
			timer.Reset(interval)
		}
	}
}

// request writes a request of the dialog; each gets a fresh branch (RFC 3261 section 8.1.1.7).
func (c *SIPCall) request(method, uri, toTag string, cseq int, contentType string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, uri)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s%s%d;rport\r\n", c.u.local, c.fromTag, method, cseq)
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: \"%s\" <sip:%s@127.0.0.1>;tag=%s\r\n", c.user, c.user, c.fromTag)
	if toTag != "" {
		fmt.Fprintf(&b, "To: <sip:%s@%s>;tag=%s\r\n", c.room, c.u.server.Addr(), toTag)
	} else {
		fmt.Fprintf(&b, "To: <sip:%s@%s>\r\n", c.room, c.u.server.Addr())
	}
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: %d %s\r\n", c.callID, cseq, method)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s>\r\n", c.user, c.u.local)
	if contentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", contentType)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.Write(body)
	return b.Bytes()
}

// sdpOffer is the offer of a call whose media socket is port: one audio codec and
// telephone-event (RFC 4733) at its clock, RTCP multiplexed on the RTP port (RFC 5761).
func sdpOffer(id int, port int, pt uint8, rtpmap string, clock int) []byte {
	return fmt.Appendf(nil, "v=0\r\no=load %d 1 IN IP4 127.0.0.1\r\ns=load\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP %d 101\r\na=rtpmap:%d %s\r\na=rtpmap:101 telephone-event/%d\r\na=fmtp:101 0-15\r\n"+
		"a=ptime:20\r\na=rtcp-mux\r\na=sendrecv\r\n", id, port, pt, pt, rtpmap, clock)
}

// sdpMedia reads the audio address of an SDP answer.
func sdpMedia(body []byte) (netip.AddrPort, error) {
	var addr netip.Addr
	var port int
	for _, l := range strings.Split(string(body), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "c=IN IP4 "):
			a, err := netip.ParseAddr(strings.TrimPrefix(l, "c=IN IP4 "))
			if err == nil {
				addr = a // a media-level c= line follows the session's and wins
			}
		case strings.HasPrefix(l, "m=audio "):
			f := strings.Fields(l)
			port, _ = strconv.Atoi(f[1])
		}
	}
	if !addr.IsValid() || port == 0 {
		return netip.AddrPort{}, fmt.Errorf("load: no audio address in the answer:\n%s", body)
	}
	if addr.IsUnspecified() {
		addr = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}
