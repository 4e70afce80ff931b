package sipleg

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"confd/internal/guard"
	"confd/sipua"
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

// validator checks every incoming message before sipgo sees it: requests against the RFC 3261
// rules and RFC 4475 torture tests both SIP legs share (sipua.Validator: 400, 416, 420, 415,
// 406, 505), which sipgo v1.7.2 accepts as valid or drops without a word (docs/REAL-PEERS.md
// "The network and the SIP stack"), then the source's admission (admit).
//
// Refusals are written straight back to where the request came from; a message so broken
// that no response can be addressed (no Via) is dropped, and an ACK is never answered.
// Responses pass through untouched: sipgo matches them to client transactions and drops the
// rest.
type validator struct {
	rules *sipua.Validator
	// onResponse, when set, is told the status code of every response sent (sent true) or
	// received on the SIP sockets (metrics).
	onResponse func(code int, sent bool)
	// admit, when set, decides whether a valid request from src goes on to sipgo; when it
	// does not, reply (possibly nil: silence) is written back instead (Server.admitMessage).
	// forgeable says whether src may be forged: a datagram's, not a stream's.
	admit func(req *sip.Request, raw []byte, src netip.Addr, forgeable bool) (reply []byte, pass bool)
	// mayAnswer, when set, says whether a refusal of the rules may be answered to src now: the
	// per-source budget of the door's (door.shouldAnswerBroken, a trunk's address included), so
	// that a flood of broken requests with a forged source cannot turn confd's 400s into a
	// reflector.
	mayAnswer func(src netip.Addr) bool
}

// optionTags are the Require option tags sipleg implements: RFC 4028 session timers (no
// 100rel).
var optionTags = []string{"timer"}

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
	return &validator{rules: sipua.NewValidator(optionTags...)}
}

// checkFrom returns nil if msg, from src, may go on to sipgo, or the response to send instead
// (which may be empty: drop). forgeable is true for a datagram, whose source address anyone may
// write, false for a message of a stream (TCP), whose source completed a handshake.
func (v *validator) checkFrom(msg []byte, src netip.Addr, forgeable bool) (reject []byte, bad bool) {
	if bytes.HasPrefix(msg, []byte("SIP/")) {
		return nil, false // a response: sipgo's to match or drop
	}
	m, refusal := v.rules.Check(msg)
	if refusal != nil {
		if v.mayAnswer != nil && !v.mayAnswer(src) {
			return nil, true
		}
		return refusal.Answer(msg), true
	}
	req, ok := m.(*sip.Request)
	if !ok || v.admit == nil {
		return nil, false
	}
	if reply, pass := v.admit(req, msg, src, forgeable); !pass {
		return reply, true
	}
	return nil, false
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
		resp, bad := c.v.checkFrom(p[:n], sourceAddr(addr), true)
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

	idle, msgTimeout time.Duration
	// conns counts the connections each source holds (guard.Admission: an IPv6 source by its
	// /64, as every per-source limit; trunks not counted).
	conns               *guard.Admission
	refusedConns        atomic.Uint64
	closedForSlowReader atomic.Uint64
}

func newValidatingListener(l net.Listener, v *validator, limits Limits, trunks []netip.Prefix) *validatingListener {
	return &validatingListener{Listener: l, v: v,
		idle: limits.TCPIdleTimeout, msgTimeout: limits.TCPMessageTimeout,
		conns: guard.NewAdmission(guard.AdmissionConfig{Rate: unlimitedRate, Burst: 1 << 30,
			PerSource: limits.TCPConnsPerSource, Exempt: trunks})}
}

// Accept wraps the next connection that its source's cap lets in.
func (l *validatingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		src := sourceAddr(c.RemoteAddr())
		if l.conns.Acquire(src, time.Now()) != nil {
			l.refusedConns.Add(1)
			c.Close()
			continue
		}
		return &validatingConn{Conn: c, v: l.v, l: l, src: src, lastMessage: time.Now()}, nil
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
			c.l.conns.Release(c.src)
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
			resp, bad := c.v.checkFrom(msg, c.src, false)
			if !bad && len(bytes.TrimSpace(msg)) > 0 && !hasContentLength(msg) {
				// RFC 3261 section 18.3: on a stream, Content-Length is mandatory.
				resp, bad = sipua.TextResponse(msg, 400, "Bad Request (no Content-Length on a stream)"), true
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
	return sipua.HeaderCounts(msg)["content-length"] > 0
}
