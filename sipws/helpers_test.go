package sipws

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"confd/bridge"
	"confd/webrtcleg"
)

// wait is how long a test waits for a message or a state it expects.
const wait = 5 * time.Second

// wsClient stands in for a SIP.js browser's transport: a WebSocket with subprotocol "sip",
// one SIP message per frame, every message received parsed and queued.
type wsClient struct {
	t    *testing.T
	conn net.Conn
	rw   io.ReadWriter
	wmu  sync.Mutex
	msgs chan sip.Message
	raw  chan []byte // the raw frames of messages sipgo cannot parse (CRLF pongs)
	done chan struct{}
}

type readWriter struct {
	io.Reader
	io.Writer
}

// lockedWriter serialises the client's own frames with the control frames its reader answers.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func dialSIP(t *testing.T, url string) *wsClient {
	t.Helper()
	return dialSIPWith(t, ws.Dialer{Protocols: []string{"sip"}, Timeout: wait}, url)
}

func dialSIPWith(t *testing.T, d ws.Dialer, url string) *wsClient {
	t.Helper()
	conn, br, _, err := d.Dial(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	c := &wsClient{t: t, conn: conn, msgs: make(chan sip.Message, 64), raw: make(chan []byte, 16), done: make(chan struct{})}
	var r io.Reader = conn
	if br != nil {
		r = io.MultiReader(br, conn)
	}
	c.rw = readWriter{r, lockedWriter{&c.wmu, conn}}
	go c.read()
	t.Cleanup(c.close)
	return c
}

func (c *wsClient) read() {
	defer close(c.done)
	for {
		data, _, err := wsutil.ReadServerData(c.rw)
		if err != nil {
			return
		}
		m, err := sip.ParseMessage(data)
		if err != nil {
			c.raw <- data
			continue
		}
		c.msgs <- m
	}
}

func (c *wsClient) close() {
	_ = c.conn.Close()
	<-c.done
}

// send writes one SIP message as a text frame.
func (c *wsClient) send(msg string) {
	c.t.Helper()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := wsutil.WriteClientText(c.conn, []byte(msg)); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next message, or fails the test.
func (c *wsClient) next() sip.Message {
	c.t.Helper()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			c.t.Fatal("connection closed")
		}
		return m
	case <-c.done:
		select {
		case m := <-c.msgs: // the reader queued it before the connection closed
			return m
		default:
		}
		c.t.Fatal("connection closed while waiting for a message")
	case <-time.After(wait):
		c.t.Fatal("no message")
	}
	return nil
}

// final returns the next response that is not 100 Trying; it must be for method.
func (c *wsClient) final(method sip.RequestMethod) *sip.Response {
	c.t.Helper()
	for {
		m := c.next()
		res, ok := m.(*sip.Response)
		if !ok {
			c.t.Fatalf("want a response to %s, got %s", method, firstLine(m))
		}
		if res.StatusCode == 100 {
			continue
		}
		if res.CSeq().MethodName != method {
			c.t.Fatalf("want a response to %s, got %s", method, res.Short())
		}
		return res
	}
}

// expectStatus sends msg and checks the final answer's status.
func (c *wsClient) expectStatus(msg string, method sip.RequestMethod, status int) *sip.Response {
	c.t.Helper()
	c.send(msg)
	res := c.final(method)
	if res.StatusCode != status {
		c.t.Fatalf("%s: got %d %s, want %d", method, res.StatusCode, res.Reason, status)
	}
	return res
}

// request returns the next message, which must be a request of method.
func (c *wsClient) request(method sip.RequestMethod) *sip.Request {
	c.t.Helper()
	m := c.next()
	req, ok := m.(*sip.Request)
	if !ok || req.Method != method {
		c.t.Fatalf("want a %s request, got %s", method, firstLine(m))
	}
	return req
}

// waitClosed waits until the server closes the connection.
func (c *wsClient) waitClosed() {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(wait):
		c.t.Fatal("the server did not close the connection")
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// dialog builds requests as a SIP.js user agent does (RFC 7118: *.invalid Via and Contact).
type dialog struct {
	ruri    string // the Request-URI of the INVITE
	to      string // the To URI
	callID  string
	fromTag string
	toTag   string // confd's tag, once a response gave it
	cseq    int
	branch  string // of the last request
	name    string
	host    string // the random *.invalid host
}

func newDialog(ruri string) *dialog {
	to := ruri
	if i := strings.Index(to, ";"); i > 0 {
		to = to[:i]
	}
	return &dialog{ruri: ruri, to: to, callID: randomHex(8), fromTag: randomHex(4), name: "Ada", host: randomHex(4) + ".invalid"}
}

// req writes a request in the dialog; a new branch unless method is ACK or CANCEL (RFC 3261
// sections 17.1.1.3 and 9.1 keep the INVITE's branch for those).
func (d *dialog) req(method, extra, body string) string {
	switch method {
	case "ACK", "CANCEL":
	default:
		d.cseq++
		d.branch = "z9hG4bK" + randomHex(6)
	}
	ruri := d.ruri
	to := "<" + d.to + ">"
	if d.toTag != "" {
		to += ";tag=" + d.toTag
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, ruri)
	fmt.Fprintf(&b, "Via: SIP/2.0/WSS %s;branch=%s\r\n", d.host, d.branch)
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: \"%s\" <sip:web@%s>;tag=%s\r\n", d.name, d.host, d.fromTag)
	fmt.Fprintf(&b, "To: %s\r\n", to)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", d.callID)
	fmt.Fprintf(&b, "CSeq: %d %s\r\n", d.cseq, method)
	fmt.Fprintf(&b, "Contact: <sip:web@%s;transport=ws;ob>\r\n", d.host)
	b.WriteString(extra)
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}

// invite is an INVITE with an SDP offer.
func (d *dialog) invite(offer, extra string) string {
	return d.req("INVITE", extra+"Content-Type: application/sdp\r\n", offer)
}

// answered records confd's tag from a response.
func (d *dialog) answered(res *sip.Response) {
	d.toTag, _ = res.To().Params.Get("tag")
}

// fakeMedia stands in for a webrtcleg.Call in the signalling tests.
type fakeMedia struct {
	once   sync.Once
	done   chan struct{}
	closed atomic.Bool
	digits chan byte
}

func newFakeMedia() *fakeMedia {
	return &fakeMedia{done: make(chan struct{}), digits: make(chan byte, 16)}
}

func (m *fakeMedia) Close() error { m.closed.Store(true); m.end(); return nil }

// end is confd's side ending the leg (kicked, ICE failed).
func (m *fakeMedia) end()                         { m.once.Do(func() { close(m.done) }) }
func (m *fakeMedia) Done() <-chan struct{}        { return m.done }
func (m *fakeMedia) DTMF(digit byte, _ time.Time) { m.digits <- digit }

// fakeAnswerer answers offers without WebRTC: "v=0" bodies get an answer, and each call's
// media is handed to the test.
type fakeAnswerer struct {
	err     error         // returned instead of answering, when set
	hold    chan struct{} // when set, the answer waits for it (or for its context)
	calls   chan *fakeMedia
	infos   chan webrtcleg.JoinInfo
	started chan struct{} // receives when an answer starts waiting for hold
}

func newFakeAnswerer() *fakeAnswerer {
	return &fakeAnswerer{calls: make(chan *fakeMedia, 16), infos: make(chan webrtcleg.JoinInfo, 16), started: make(chan struct{}, 16)}
}

func (f *fakeAnswerer) answer(ctx context.Context, room, offer string, info webrtcleg.JoinInfo) (string, media, error) {
	if f.hold != nil {
		f.started <- struct{}{}
		select {
		case <-f.hold:
		case <-ctx.Done():
			return "", nil, fmt.Errorf("%w: %w", webrtcleg.ErrGathering, ctx.Err())
		}
	}
	if f.err != nil {
		return "", nil, f.err
	}
	m := newFakeMedia()
	f.infos <- info
	f.calls <- m
	return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", m, nil
}

// fakeOffer is what the signalling tests offer; the fake answerer does not read it.
const fakeOffer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"

// fakeEnv is a Server with a fake answerer behind an httptest server.
type fakeEnv struct {
	b   *bridge.Bridge
	s   *Server
	fa  *fakeAnswerer
	url string
	hs  *httptest.Server
}

func newFakeEnv(t *testing.T, bcfg bridge.Config, cfg Config, opts ...Option) *fakeEnv {
	t.Helper()
	e := &fakeEnv{b: bridge.New(bcfg, bridge.WithLogger(slog.New(slog.DiscardHandler))), fa: newFakeAnswerer()}
	e.s = newServer(e.b, cfg, e.fa.answer, append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	e.hs = httptest.NewServer(e.s)
	e.url = "ws" + strings.TrimPrefix(e.hs.URL, "http") + "/sip"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		_ = e.s.Shutdown(ctx)
		e.hs.Close()
		e.b.Close()
	})
	return e
}

// call INVITEs room and returns the dialog once answered and acknowledged, and its media.
func (e *fakeEnv) call(t *testing.T, c *wsClient, ruri string) (*dialog, *fakeMedia) {
	t.Helper()
	d := newDialog(ruri)
	res := c.expectStatus(d.invite(fakeOffer, ""), sip.INVITE, 200)
	d.answered(res)
	c.send(d.req("ACK", "", ""))
	select {
	case m := <-e.fa.calls:
		return d, m
	case <-time.After(wait):
		t.Fatal("no media")
	}
	return nil, nil
}

func firstLine(m sip.Message) string {
	line, _, _ := strings.Cut(m.String(), "\r\n")
	return line
}
