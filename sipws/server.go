package sipws

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"confd/bridge"
	"confd/internal/guard"
	"confd/problem"
	"confd/sipua"
	"confd/webrtcleg"
)

// media is what a call needs of its WebRTC leg: *webrtcleg.Call in the daemon, a fake in the
// signalling tests and the fuzz target.
type media interface {
	Close() error
	Done() <-chan struct{}
	DTMF(digit byte, now time.Time)
}

// answerFunc answers a WebRTC offer and joins the room: (*webrtcleg.Server).Answer.
type answerFunc func(ctx context.Context, room, offer string, info webrtcleg.JoinInfo) (string, media, error)

// Server is confd's SIP user agent over WebSocket (RFC 7118): mounted at /sip on the HTTP
// listener, it accepts REGISTER, answers INVITEs that carry a WebRTC offer through
// webrtcleg, and keeps each call's dialog on the connection it came on.
type Server struct {
	b      *bridge.Bridge
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	answer answerFunc
	gate   *sipua.Gate      // the admit step of every INVITE (draining, credentials, room)
	valid  *sipua.Validator // every request's RFC 3261 checks

	attempts *guard.Attempts  // room PIN guesses
	admit    *guard.Admission // upgrades: rate, connections per source and in all
	requests *guard.Admission // dialog-creating INVITEs and REGISTERs: rate per source
	messages *guard.Admission // every SIP message: rate per source
	origins  guard.Origins    // Config.AllowedOrigins and the page's own (guard.Origins.Allows)

	mu     sync.Mutex
	conns  map[*conn]struct{}
	closed bool
	wg     sync.WaitGroup // every connection's reader and every call's goroutine
	stats  counters
}

// New returns a Server whose calls join rooms of b through w. Mount it at /sip.
func New(b *bridge.Bridge, w *webrtcleg.Server, cfg Config, opts ...Option) *Server {
	s := newServer(b, cfg, func(ctx context.Context, room, offer string, info webrtcleg.JoinInfo) (string, media, error) {
		answer, call, err := w.Answer(ctx, room, offer, info)
		if err != nil {
			return "", nil, err
		}
		return answer, call, nil
	}, opts...)
	return s
}

func newServer(b *bridge.Bridge, cfg Config, answer answerFunc, opts ...Option) *Server {
	s := &Server{b: b, cfg: cfg, log: slog.Default(), now: time.Now, answer: answer, conns: map[*conn]struct{}{}}
	for _, o := range opts {
		o(s)
	}
	s.log = s.log.With("component", "sipws")
	s.gate = &sipua.Gate{Bridge: b, RetryAfter: cfg.retryAfter(), Auth: sipua.NewAuth(cfg.Auth, s.now)}
	s.valid = sipua.NewValidator(optionTags...)
	s.attempts = cfg.Attempts
	if s.attempts == nil {
		s.attempts = guard.NewAttempts(guard.AttemptsConfig{})
	}
	s.admit, s.requests, s.messages = cfg.admissions()
	s.origins = guard.NewOrigins(cfg.AllowedOrigins)
	return s
}

// ServeHTTP upgrades the request to a WebSocket with the "sip" subprotocol (RFC 7118 section
// 4) and serves SIP on it until it closes. Refused with a problem document (package problem), nothing
// upgraded: a handshake without that subprotocol 400; from a browser page on a foreign origin
// 403 (RFC 6455 section 10.2); beyond the source's upgrade rate or connections 429, beyond
// every source's connections or while shutting down 503, each with Retry-After. Every message
// (text or binary frame) is one SIP message (RFC 7118 section 5).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !offersSIP(r.Header.Values("Sec-WebSocket-Protocol")) {
		s.refuse(w, http.StatusBadRequest, ErrNoSubprotocol)
		return
	}
	if s.isClosed() {
		s.refuse(w, http.StatusServiceUnavailable, &guard.Refusal{Err: errors.New("sipws: shutting down"), RetryAfter: time.Duration(s.cfg.retryAfter()) * time.Second})
		return
	}
	if !s.origins.Allows(r) {
		s.stats.foreignOrigin.Add(1)
		s.refuse(w, http.StatusForbidden, ErrForeignOrigin)
		return
	}
	src := guard.SourceAddr(r.RemoteAddr)
	if err := s.admit.Acquire(src, s.now()); err != nil {
		s.stats.connLimited.Add(1)
		status := http.StatusTooManyRequests
		if errors.Is(err, guard.ErrFull) {
			status = http.StatusServiceUnavailable
		}
		s.refuse(w, status, err)
		return
	}
	defer s.admit.Release(src)
	up := ws.HTTPUpgrader{Protocol: func(p string) bool { return p == "sip" }}
	nc, rw, _, err := up.Upgrade(r, w)
	if err != nil {
		s.stats.refused.Add(1)
		if nc != nil {
			_ = nc.Close()
		}
		s.log.Debug("websocket upgrade refused", "remote", r.RemoteAddr, "err", err)
		return
	}
	transport := "WS"
	if r.TLS != nil {
		transport = "WSS"
	}
	c := newConn(s, nc, rw.Reader, transport, r.Host, r.RemoteAddr)
	if !s.add(c) {
		c.close(ws.StatusGoingAway, "shutting down")
		return
	}
	s.stats.conns.Add(1)
	s.stats.connsTotal.Add(1)
	defer s.stats.conns.Add(^uint64(0))
	defer s.wg.Done()
	defer s.forget(c)
	c.serve()
}

// refuse answers a handshake that is not upgraded: status, a JSON error, and Retry-After when
// err is a guard.Refusal.
func (s *Server) refuse(w http.ResponseWriter, status int, err error) {
	s.stats.refused.Add(1)
	if ra := guard.RetryAfterSeconds(err); ra > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ra))
	}
	problem.Write(w, status, err.Error())
}

// offersSIP reports whether the Sec-WebSocket-Protocol values list "sip".
func offersSIP(values []string) bool {
	for _, v := range values {
		for p := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(p) == "sip" {
				return true
			}
		}
	}
	return false
}

func (s *Server) add(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) connections() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

// Drain refuses new calls from now on: INVITEs get 503 with Retry-After (RFC 3261 section
// 21.5.4); calls in progress go on, and REGISTER and OPTIONS are still answered.
func (s *Server) Drain() { s.gate.Drain() }

// Shutdown ends every call with a BYE, closes every connection (WebSocket close status 1001)
// and waits for their goroutines, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.Drain()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	conns := s.connections()
	for _, c := range conns {
		c.hangupAll("shutdown")
	}
	// The BYEs go out from each call's goroutine; the connections close once they have.
	done := make(chan struct{})
	go func() {
		for _, c := range conns {
			c.waitCalls(ctx)
			c.close(ws.StatusGoingAway, "shutting down")
		}
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, c := range s.connections() {
			c.close(ws.StatusGoingAway, "shutting down")
		}
		return errors.Join(errors.New("sipws: shutdown"), ctx.Err())
	}
}

// Calls returns the number of calls in progress: answered, or being answered.
func (s *Server) Calls() int {
	n := 0
	for _, c := range s.connections() {
		n += c.callCount()
	}
	return n
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	return s.stats.snapshot()
}
