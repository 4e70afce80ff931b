package api

import (
	"cmp"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"confd/internal/guard"
)

// ServerLimits bound what one HTTP client may hold of the server (issue 8 item 13). Every zero
// value is the default named; the daemon fills it from [http_security].
type ServerLimits struct {
	// ReadHeaderTimeout bounds reading a request's headers. Zero means 10 s.
	ReadHeaderTimeout time.Duration
	// BodyTimeout bounds reading a request's body, counted from the end of its headers. Zero
	// means 10 s.
	BodyTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that waits this long for its next request.
	// Zero means 2 min.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's headers (431 above it). Zero means 64 KiB.
	MaxHeaderBytes int
	// MaxBodyBytes bounds every request body (a handler's read fails, 413, above it). Zero
	// means guard.MaxBodyBytes (1 MiB).
	MaxBodyBytes int64
	// MaxConnsPerSource is how many connections one address (an IPv6 /64) may hold open; more
	// are closed at once (LimitConns). Zero means 64: a browser holds about 8.
	MaxConnsPerSource int
	// ConnRate is how many new connections per second one address may open on average, twice
	// as many at once (LimitConns). Zero means 50.
	ConnRate float64
	// ProxyProtocolFrom lists the proxies in front of confd (HAProxy) whose connections begin
	// with a PROXY protocol header naming the client (proxyproto.go; one without is closed):
	// the client is then the connection's source for every limit, and its RemoteAddr. None by
	// default.
	ProxyProtocolFrom []netip.Prefix
	// Exempt lists sources free of the per-source limits: the other nodes of a cluster, which
	// forward many clients' requests (an event stream each) over connections of their own.
	Exempt []netip.Prefix
}

// WithDefaults returns l with every zero value replaced by its documented default.
func (l ServerLimits) WithDefaults() ServerLimits {
	l.ReadHeaderTimeout = cmp.Or(l.ReadHeaderTimeout, 10*time.Second)
	l.BodyTimeout = cmp.Or(l.BodyTimeout, 10*time.Second)
	l.IdleTimeout = cmp.Or(l.IdleTimeout, 2*time.Minute)
	l.MaxHeaderBytes = cmp.Or(l.MaxHeaderBytes, 64<<10)
	l.MaxBodyBytes = cmp.Or(l.MaxBodyBytes, guard.MaxBodyBytes)
	l.MaxConnsPerSource = cmp.Or(l.MaxConnsPerSource, 64)
	l.ConnRate = cmp.Or(l.ConnRate, 50)
	return l
}

// NewServer returns the HTTP server for h with l's limits. It has no WriteTimeout and no
// ReadTimeout, which would cut the long-lived event streams and WebSockets: the body deadline
// is set per request, and only on requests that have a body.
func NewServer(h http.Handler, l ServerLimits, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.Default()
	}
	l = l.WithDefaults()
	return &http.Server{
		Handler:           limitBodies(h, l),
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}

// limitBodies caps every request body at MaxBodyBytes and gives it BodyTimeout to arrive (a
// client that declares 5,000 bytes and sends none no longer holds a goroutine and a socket
// for ever). Once the body is read the deadline is lifted, so a handler that works on after
// reading (a WHIP answer gathering candidates) is not cancelled by it.
func limitBodies(next http.Handler, l ServerLimits) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			if rc.SetReadDeadline(time.Now().Add(l.BodyTimeout)) == nil {
				r.Body = &deadlineBody{ReadCloser: http.MaxBytesReader(w, r.Body, l.MaxBodyBytes), rc: rc}
			} else {
				r.Body = http.MaxBytesReader(w, r.Body, l.MaxBodyBytes)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the connection's read deadline when the body has been read to its end.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// ConnLimiter is a net.Listener that admits a connection only within the per-source rate and
// cap of its Admission (pike-style, guard.Admission): a connection beyond them is closed at
// once, before TLS or HTTP spend anything on it. A connection counts until it is closed, also
// after an HTTP handler hijacked it (WebSocket).
type ConnLimiter struct {
	net.Listener
	adm     *guard.Admission
	proxies []netip.Prefix // ServerLimits.ProxyProtocolFrom
	log     *slog.Logger
	refused atomic.Uint64
	// badHeaders counts a listed proxy's connections closed for want of a good PROXY header.
	badHeaders atomic.Uint64
}

// LimitConns wraps ln with l's limits on each source's connections (MaxConnsPerSource,
// ConnRate). log (nil: slog.Default) is told of a listed proxy's connection without a good
// PROXY protocol header, which it closes: a proxy not sending one (send-proxy-v2 left out)
// would otherwise look like a site that is down.
func LimitConns(ln net.Listener, l ServerLimits, log *slog.Logger) *ConnLimiter {
	l = l.WithDefaults()
	if log == nil {
		log = slog.Default()
	}
	return &ConnLimiter{Listener: ln, proxies: l.ProxyProtocolFrom, log: log,
		adm: guard.NewAdmission(guard.AdmissionConfig{Rate: l.ConnRate, PerSource: l.MaxConnsPerSource, Exempt: l.Exempt})}
}

// Refused returns how many connections were closed at once for being over a limit.
func (l *ConnLimiter) Refused() uint64 { return l.refused.Load() }

// BadProxyHeaders returns how many connections of the proxies in
// ServerLimits.ProxyProtocolFrom were closed for want of a good PROXY protocol header.
func (l *ConnLimiter) BadProxyHeaders() uint64 { return l.badHeaders.Load() }

// Accept returns the next admitted connection.
func (l *ConnLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		src := guard.SourceAddr(c.RemoteAddr().String())
		if guard.InPrefixes(l.proxies, src) {
			// Its place is taken under the client it names, on its own goroutine (proxyproto.go).
			return newProxiedConn(c, l), nil
		}
		if err := l.adm.Acquire(src, time.Now()); err != nil {
			l.refused.Add(1)
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // a reset, not a FIN: the refused side learns at once
			}
			c.Close()
			continue
		}
		return &admittedConn{Conn: c, release: sync.OnceFunc(func() { l.adm.Release(src) })}, nil
	}
}

// admittedConn gives its place back when it is closed, however often Close is called.
type admittedConn struct {
	net.Conn
	release func()
}

func (c *admittedConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}
