package sipleg

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"confd/internal/config"
)

// sourceAddr is the address (without port) of a socket's peer; the zero Addr when unknown.
func sourceAddr(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap()
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	case nil:
		return netip.Addr{}
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// validator checks every incoming request before sipgo sees it, and answers those RFC 3261
// and the torture tests of RFC 4475 say must be refused but that sipgo v1.7.2 accepts as
// valid or drops without a word (docs/REAL-PEERS.md "The network and the SIP stack"):
//
//   - 400 Bad Request for what does not parse (RFC 4475 section 3.1.2), a CSeq method that is
//     not the request's (3.1.2.17, 3.1.2.18), a missing mandatory header (3.3.1), a header
//     that must appear once appearing twice (3.3.8) or a doubled Content-Length (3.3.9), a
//     Request-URI with escaped headers (3.1.2.11), a malformed Date (3.1.2.12);
//   - 416 Unsupported URI Scheme for a Request-URI that is not sip:, sips: or tel: (3.3.2,
//     3.3.3);
//   - 420 Bad Extension with an Unsupported header listing each unknown Require option tag
//     (3.3.5; a UAS ignores Proxy-Require, RFC 3261 section 8.2.2.3);
//   - 415 Unsupported Media Type with Accept for an INVITE, UPDATE or ACK body that is not
//     SDP (3.3.6), and 406 Not Acceptable for an INVITE whose Accept excludes SDP (3.3.15);
//   - 505 Version Not Supported for a version other than SIP/2.0 (3.1.2.16).
//
// Responses are written straight back to where the request came from; a message so broken
// that no response can be addressed (no Via, Call-ID or CSeq) is dropped. Responses pass
// through untouched: sipgo matches them to client transactions and drops the rest.
type validator struct {
	parsers sync.Pool
	// onResponse, when set, is told the status code of every response sent (sent true) or
	// received on the SIP sockets (metrics).
	onResponse func(code int, sent bool)
	// admit, when set, decides whether a valid request from src goes on to sipgo; when it
	// does not, reply (possibly nil: silence) is written back instead (Server.admitMessage).
	admit func(req *sip.Request, raw []byte, src netip.Addr) (reply []byte, pass bool)
}

// countResponse tells onResponse the code of b if b is a SIP response ("SIP/2.0 NNN …"), and
// whether confd sent it.
func (v *validator) countResponse(b []byte, sent bool) {
	if v.onResponse == nil || len(b) < 12 || string(b[:8]) != "SIP/2.0 " {
		return
	}
	d0, d1, d2 := int(b[8])-'0', int(b[9])-'0', int(b[10])-'0'
	if d0 < 1 || d0 > 6 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9 {
		return
	}
	v.onResponse(d0*100+d1*10+d2, sent)
}

func newValidator() *validator {
	return &validator{parsers: sync.Pool{New: func() any { return sip.NewParser() }}}
}

// checkFrom is check followed by the admission of a valid request from src.
func (v *validator) checkFrom(msg []byte, src netip.Addr) (reject []byte, bad bool) {
	req, reject, bad := v.parse(msg)
	if bad || req == nil || v.admit == nil {
		return reject, bad
	}
	if reply, pass := v.admit(req, msg, src); !pass {
		return reply, true
	}
	return nil, false
}

// check returns nil if msg may go on to sipgo, or the response to send instead (which may be
// empty: drop).
func (v *validator) check(msg []byte) (reject []byte, bad bool) {
	_, reject, bad = v.parse(msg)
	return reject, bad
}

// parse is check that also returns the request when msg is a valid one.
func (v *validator) parse(msg []byte) (req *sip.Request, reject []byte, bad bool) {
	if len(bytes.Trim(msg, "\r\n")) == 0 || bytes.HasPrefix(msg, []byte("SIP/")) {
		return nil, nil, false
	}
	p := v.parsers.Get().(*sip.Parser)
	m, err := p.ParseSIP(msg)
	v.parsers.Put(p)
	if err != nil {
		status, reason := 400, "Bad Request ("+err.Error()+")"
		if uriSchemeUnsupported(msg) {
			status, reason = 416, "Unsupported URI Scheme"
		}
		return nil, textResponse(msg, status, reason, ""), true
	}
	req, ok := m.(*sip.Request)
	if !ok {
		return nil, nil, false
	}
	status, reason, extra := checkRequest(req, msg)
	if status == 0 {
		return req, nil, false
	}
	return nil, textResponse(msg, status, reason, extra), true
}

// supportedTags are the Require option tags confd implements: RFC 4028 session timers (no
// 100rel).
var supportedTags = map[string]bool{"timer": true}

// checkRequest applies the rules sipgo's parser does not. It returns status 0 when req is fine.
func checkRequest(req *sip.Request, raw []byte) (status int, reason, extra string) {
	if req.SipVersion != "SIP/2.0" {
		return 505, "Version Not Supported", ""
	}
	counts := headerCounts(raw)
	for _, h := range []string{"via", "from", "to", "call-id", "cseq"} {
		if counts[h] == 0 {
			return 400, "Bad Request (missing " + h + ")", ""
		}
	}
	for _, h := range []string{"from", "to", "call-id", "cseq", "max-forwards", "content-length", "content-type"} {
		if counts[h] > 1 {
			return 400, "Bad Request (more than one " + h + ")", ""
		}
	}
	if cseq := req.CSeq(); cseq == nil || !strings.EqualFold(cseq.MethodName.String(), req.Method.String()) {
		return 400, "Bad Request (CSeq method does not match the request)", ""
	}
	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips", "tel":
	default:
		return 416, "Unsupported URI Scheme", ""
	}
	if req.Recipient.Headers != nil && req.Recipient.Headers.Length() > 0 {
		return 400, "Bad Request (headers in the Request-URI)", ""
	}
	if d := req.GetHeader("Date"); d != nil {
		if _, err := time.Parse(http.TimeFormat, d.Value()); err != nil {
			return 400, "Bad Request (malformed Date)", ""
		}
	}
	method := req.Method
	if method != sip.ACK && method != sip.CANCEL {
		var unsupported []string
		for _, h := range req.GetHeaders("Require") {
			for _, tag := range strings.Split(h.Value(), ",") {
				if tag = strings.TrimSpace(tag); tag != "" && !supportedTags[strings.ToLower(tag)] {
					unsupported = append(unsupported, tag)
				}
			}
		}
		if len(unsupported) > 0 {
			return 420, "Bad Extension", "Unsupported: " + strings.Join(unsupported, ", ") + "\r\n"
		}
	}
	if method == sip.INVITE || method == sip.UPDATE || method == sip.ACK {
		if len(req.Body()) > 0 {
			ct := ""
			if h := req.ContentType(); h != nil {
				ct = h.Value()
			}
			if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/sdp" {
				return 415, "Unsupported Media Type", "Accept: application/sdp\r\n"
			}
		}
		if method == sip.INVITE {
			if accepts := req.GetHeaders("Accept"); len(accepts) > 0 && !acceptsSDP(accepts) {
				return 406, "Not Acceptable", "Accept: application/sdp\r\n"
			}
		}
	}
	return 0, "", ""
}

func acceptsSDP(hs []sip.Header) bool {
	for _, h := range hs {
		for _, t := range strings.Split(h.Value(), ",") {
			mt, _, _ := strings.Cut(strings.TrimSpace(t), ";")
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case "application/sdp", "application/*", "*/*", "":
				return true
			}
		}
	}
	return false
}

// compactNames maps RFC 3261 section 7.3.3 compact header names to the full ones.
var compactNames = map[string]string{"v": "via", "f": "from", "t": "to", "i": "call-id", "l": "content-length",
	"c": "content-type", "m": "contact", "e": "content-encoding", "k": "supported", "s": "subject"}

// headerCounts counts the header fields of a raw message by lower-case full name, unfolding
// nothing: a continuation line starts with white space and is not a field.
func headerCounts(raw []byte) map[string]int {
	counts := map[string]int{}
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\r\n")
	for _, line := range lines[1:] {
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		name, _, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if full, ok := compactNames[name]; ok {
			name = full
		}
		counts[name]++
	}
	return counts
}

func requestLine(raw []byte) []byte {
	line, _, _ := bytes.Cut(raw, []byte("\r\n"))
	return line
}

// uriSchemeUnsupported reports whether an unparsable request's Request-URI has a scheme other
// than sip, sips or tel (RFC 4475 section 3.3.3: "soap.beep://...") and is otherwise shaped
// like a URI (not "<sip:...>", RFC 4475 section 3.1.2.7).
func uriSchemeUnsupported(raw []byte) bool {
	parts := strings.Split(string(requestLine(raw)), " ")
	if len(parts) != 3 {
		return false
	}
	scheme, _, ok := strings.Cut(parts[1], ":")
	if !ok || scheme == "" {
		return false
	}
	for _, r := range scheme {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.') {
			return false
		}
	}
	switch strings.ToLower(scheme) {
	case "sip", "sips", "tel":
		return false
	}
	return true
}

// textResponse writes a response to a raw request by copying its Via, From, To, Call-ID and
// CSeq lines (RFC 3261 section 8.2.6.2), which works even when the request did not parse. It
// returns nil when those headers cannot be found: nothing can be answered.
func textResponse(raw []byte, status int, reason, extra string) []byte {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\r\n")
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", status, strings.Map(printable, reason))
	found := map[string]bool{}
	for i := 1; i < len(lines); i++ {
		name, _, ok := strings.Cut(lines[i], ":")
		if !ok || lines[i] == "" || lines[i][0] == ' ' || lines[i][0] == '\t' {
			continue
		}
		n := strings.ToLower(strings.TrimSpace(name))
		if full, ok := compactNames[n]; ok {
			n = full
		}
		switch n {
		case "via", "from", "to", "call-id", "cseq":
			if n != "via" && found[n] {
				continue
			}
			found[n] = true
			b.WriteString(lines[i])
			for i+1 < len(lines) && lines[i+1] != "" && (lines[i+1][0] == ' ' || lines[i+1][0] == '\t') {
				i++
				b.WriteString(" " + strings.TrimSpace(lines[i]))
			}
			b.WriteString("\r\n")
		}
	}
	if !found["via"] {
		return nil // nowhere to send it (RFC 3261 section 18.2.2)
	}
	if status == 405 || status == 501 {
		b.WriteString("Allow: " + allowed + "\r\n")
	}
	b.WriteString(extra)
	b.WriteString("Server: confd\r\nContent-Length: 0\r\n\r\n")
	return []byte(b.String())
}

func printable(r rune) rune {
	if r < ' ' || r == 0x7f {
		return ' '
	}
	return r
}

// validatingPacketConn is the SIP UDP socket as sipgo sees it: datagrams that fail validation
// are answered (to their real source) or dropped here and never reach sipgo.
type validatingPacketConn struct {
	net.PacketConn
	v *validator
}

// ReadFrom returns the next datagram that passed validation.
func (c *validatingPacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil {
			return n, addr, err
		}
		resp, bad := c.v.checkFrom(p[:n], sourceAddr(addr))
		if !bad {
			c.v.countResponse(p[:n], false)
			return copy(p, unfold(p[:n])), addr, nil
		}
		if len(resp) > 0 {
			_, _ = c.WriteTo(resp, addr)
		}
	}
}

// WriteTo sends a datagram, counting the responses among them.
func (c *validatingPacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	c.v.countResponse(p, true)
	return c.PacketConn.WriteTo(p, addr)
}

// validatingListener hands sipgo TCP connections whose byte stream is cut into messages
// (Content-Length framing, RFC 3261 section 18.3) and validated here. It also bounds what one
// source may hold on a stream (issue 8): at most perSource connections at once (more are
// closed as soon as they are accepted), each closed after idle without a message or when a
// message, once begun, is not complete within msgTimeout, and no message over maxMessage.
type validatingListener struct {
	net.Listener
	v *validator

	perSource           int
	idle, msgTimeout    time.Duration
	mu                  sync.Mutex
	conns               map[netip.Addr]int
	refusedConns        atomic.Uint64
	closedForSlowReader atomic.Uint64
	trunks              []netip.Prefix
}

func newValidatingListener(l net.Listener, v *validator, limits config.SIPLimits, trunks []netip.Prefix) *validatingListener {
	return &validatingListener{Listener: l, v: v, perSource: limits.TCPConnsPerSource,
		idle: time.Duration(limits.TCPIdleTimeout), msgTimeout: time.Duration(limits.TCPMessageTimeout),
		conns: map[netip.Addr]int{}, trunks: trunks}
}

// Accept wraps the next connection that its source's cap lets in.
func (l *validatingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		src := sourceAddr(c.RemoteAddr())
		if !l.take(src) {
			l.refusedConns.Add(1)
			c.Close()
			continue
		}
		return &validatingConn{Conn: c, v: l.v, l: l, src: src, lastMessage: time.Now()}, nil
	}
}

// take counts one more connection from src, unless it holds perSource already (trunks are
// not counted).
func (l *validatingListener) take(src netip.Addr) bool {
	if config.IsTrunkAddr(l.trunks, src) {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perSource > 0 && l.conns[src] >= l.perSource {
		return false
	}
	l.conns[src]++
	return true
}

func (l *validatingListener) release(src netip.Addr) {
	if config.IsTrunkAddr(l.trunks, src) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns[src]--; l.conns[src] <= 0 {
		delete(l.conns, src)
	}
}

// maxMessage bounds one SIP message on a stream; a longer one closes the connection.
const maxMessage = 64 << 10

// errSlowMessage ends a SIP/TCP connection whose message did not arrive in time.
var errSlowMessage = errors.New("sipleg: SIP/TCP message not complete in time")

type validatingConn struct {
	net.Conn
	v           *validator
	l           *validatingListener // nil for a connection not accepted through one
	src         netip.Addr
	in          []byte
	out         []byte
	lastMessage time.Time // when the last whole message (or keep-alive) ended
	begun       time.Time // when the first byte of the message now arriving came
	closeOnce   sync.Once
	rbuf        [4096]byte
}

// Close closes the connection and gives its place back to the source's cap.
func (c *validatingConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() {
		if c.l != nil {
			c.l.release(c.src)
		}
	})
	return err
}

// deadline is when the next read must have brought something: the idle limit between
// messages, the message limit within one.
func (c *validatingConn) deadline() time.Time {
	if c.l == nil {
		return time.Time{}
	}
	if len(c.in) == 0 {
		return c.lastMessage.Add(c.l.idle)
	}
	return c.begun.Add(c.l.msgTimeout)
}

// Read returns bytes of messages that passed validation, whole messages at a time.
func (c *validatingConn) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		if msg, rest, ok := c.next(); ok {
			c.in = rest
			c.lastMessage = time.Now()
			c.begun = c.lastMessage
			resp, bad := c.v.checkFrom(msg, c.src)
			if !bad && len(bytes.TrimSpace(msg)) > 0 && !hasContentLength(msg) {
				// RFC 3261 section 18.3: on a stream, Content-Length is mandatory.
				resp, bad = textResponse(msg, 400, "Bad Request (no Content-Length on a stream)", ""), true
			}
			if bad {
				if len(resp) > 0 {
					_, _ = c.Write(resp)
				}
				continue
			}
			c.v.countResponse(msg, false)
			c.out = append(c.out, unfold(msg)...)
			continue
		}
		if len(c.in) > maxMessage {
			c.Close()
			return 0, fmt.Errorf("sipleg: SIP message over %d bytes", maxMessage)
		}
		if d := c.deadline(); !d.IsZero() {
			_ = c.Conn.SetReadDeadline(d)
		}
		n, err := c.Conn.Read(c.rbuf[:])
		if n > 0 && len(c.in) == 0 {
			c.begun = time.Now()
		}
		c.in = append(c.in, c.rbuf[:n]...)
		if err != nil && n == 0 {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				// Idle too long, or a message begun and never finished (slowloris): the
				// connection is closed without an answer.
				if c.l != nil {
					c.l.closedForSlowReader.Add(1)
				}
				c.Close()
				return 0, errSlowMessage
			}
			return 0, err
		}
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

// SetReadDeadline is ignored: the deadlines of a SIP stream are this connection's own.
func (c *validatingConn) SetReadDeadline(time.Time) error { return nil }

// Write sends bytes of a message, counting it when it is a response (sipgo writes one message
// per call).
func (c *validatingConn) Write(p []byte) (int, error) {
	c.v.countResponse(p, true)
	return c.Conn.Write(p)
}

// next cuts the first whole message (or keep-alive CRLFs) off c.in.
func (c *validatingConn) next() (msg, rest []byte, ok bool) {
	if len(c.in) == 0 {
		return nil, nil, false
	}
	if c.in[0] == '\r' || c.in[0] == '\n' {
		i := 0
		for i < len(c.in) && (c.in[i] == '\r' || c.in[i] == '\n') {
			i++
		}
		return c.in[:i], c.in[i:], true // keep-alives pass through (RFC 5626 section 3.5.1)
	}
	end := bytes.Index(c.in, []byte("\r\n\r\n"))
	if end < 0 {
		return nil, nil, false
	}
	end += 4
	length := 0
	for _, line := range strings.Split(string(c.in[:end]), "\r\n") {
		name, val, found := strings.Cut(line, ":")
		n := strings.ToLower(strings.TrimSpace(name))
		if found && (n == "content-length" || n == "l") {
			length, _ = strconv.Atoi(strings.TrimSpace(val))
			break
		}
	}
	if length < 0 || length > maxMessage {
		length = 0 // the validator answers 400 for the header itself
	}
	if len(c.in) < end+length {
		return nil, nil, false
	}
	return c.in[:end+length], c.in[end+length:], true
}

// folding is a header line continued on the next (RFC 3261 section 7.3.1).
var folding = regexp.MustCompile(`\r\n[ \t]+`)

// unfold joins continued header lines with a single space, which RFC 3261 section 7.3.1 makes
// equivalent, because sipgo's stream parser does not (RFC 4475 section 3.1.1.1, "wsinv").
func unfold(msg []byte) []byte {
	head, body, ok := bytes.Cut(msg, []byte("\r\n\r\n"))
	if !ok || !folding.Match(head) {
		return msg
	}
	out := folding.ReplaceAll(head, []byte(" "))
	out = append(out, "\r\n\r\n"...)
	return append(out, body...)
}

func hasContentLength(msg []byte) bool {
	return headerCounts(msg)["content-length"] > 0
}
