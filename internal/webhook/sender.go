package webhook

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"confd/bridge"
)

// Config describes one webhook endpoint. The zero value of every field but URL is a documented
// default.
type Config struct {
	// URL is the endpoint, an absolute http or https URL.
	URL string
	// Secret signs every request (webhook-signature): "whsec_" and base64 as Standard Webhooks
	// secrets are written, or any other string, whose bytes are then the key (see Key). Empty
	// sends no signature.
	Secret string
	// Events limits the event types sent ("join", "leave", ...); empty sends all.
	Events []string
	// Room limits the events to one room; empty sends every room's.
	Room string
	// QueueSize is how many events may wait for delivery before the Bus drops new ones for this
	// endpoint; 0 means 1024.
	QueueSize int
	// Timeout bounds one attempt (connect, send, answer); 0 means 5 s.
	Timeout time.Duration
	// MaxAttempts is how many attempts one event gets; 0 means 10.
	MaxAttempts int
	// MaxRetryTime bounds the time spent on one event, back-off included; 0 means 2 minutes.
	MaxRetryTime time.Duration
	// MinBackoff is the wait after the first failed attempt, doubled after each further one;
	// 0 means 250 ms.
	MinBackoff time.Duration
	// MaxBackoff caps the wait between attempts (and a Retry-After the endpoint asks for);
	// 0 means 30 s.
	MaxBackoff time.Duration
	// Client sends the requests; nil means a client of its own.
	Client *http.Client
}

func (c *Config) withDefaults() {
	c.QueueSize = cmp.Or(c.QueueSize, 1024)
	c.Timeout = cmp.Or(c.Timeout, 5*time.Second)
	c.MaxAttempts = cmp.Or(c.MaxAttempts, 10)
	c.MaxRetryTime = cmp.Or(c.MaxRetryTime, 2*time.Minute)
	c.MinBackoff = cmp.Or(c.MinBackoff, 250*time.Millisecond)
	c.MaxBackoff = cmp.Or(c.MaxBackoff, 30*time.Second)
	if c.Client == nil {
		c.Client = &http.Client{}
	}
}

// Option changes how a Sender reports, not what it does.
type Option func(*Sender)

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Sender) { s.log = l } }

// Stats is a snapshot of a Sender's counters. Counters only grow.
type Stats struct {
	// Delivered counts events the endpoint accepted (2xx).
	Delivered uint64
	// Attempts counts HTTP requests made; Retries those that repeated an event.
	Attempts, Retries uint64
	// Failed counts events given up: refused (4xx other than 408 and 429) or out of retry budget.
	Failed uint64
	// Abandoned counts events still queued or in flight when Close's deadline ended.
	Abandoned uint64
	// Dropped counts events the Bus could not queue because this endpoint's queue was full.
	Dropped uint64
	// Filtered counts events skipped by the Events or Room filter.
	Filtered uint64
	// Queued is how many events wait now.
	Queued int
	// LastStatus is the HTTP status of the last attempt (0 for a network error or none yet).
	LastStatus int
}

// Sender delivers one endpoint's events from its own goroutine (see the package documentation).
type Sender struct {
	cfg    Config
	log    *slog.Logger
	sub    *bridge.Subscription
	filter map[bridge.EventType]bool
	key    []byte          // the HMAC key of cfg.Secret
	ctx    context.Context // cancelled when Close gives up
	cancel context.CancelFunc
	done   chan struct{}
	close  sync.Once

	delivered, attempts, retries, failed, abandoned, filtered atomic.Uint64
	lastStatus                                                atomic.Int64
}

// New checks cfg, subscribes to bus and starts delivering. Close stops it.
func New(bus *bridge.Bus, cfg Config, opts ...Option) (*Sender, error) {
	u, filter, key, err := parseEndpoint(cfg.URL, cfg.Events, cfg.Secret)
	if err != nil {
		return nil, err
	}
	if cfg.QueueSize < 0 || cfg.Timeout < 0 || cfg.MaxAttempts < 0 || cfg.MaxRetryTime < 0 || cfg.MinBackoff < 0 || cfg.MaxBackoff < 0 {
		return nil, fmt.Errorf("%w: negative limit", ErrBadConfig)
	}
	if cfg.Room != "" && !bridge.ValidRoomName(cfg.Room) {
		return nil, fmt.Errorf("%w: room %q", ErrBadConfig, cfg.Room)
	}
	cfg.withDefaults()
	s := &Sender{cfg: cfg, log: slog.Default(), filter: filter, key: key, done: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	s.log = s.log.With("webhook", u.Redacted())
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.sub = bus.Subscribe(cfg.Room, cfg.QueueSize, "")
	go s.run()
	return s, nil
}

// Stats returns the Sender's counters; it is safe to call from any goroutine.
func (s *Sender) Stats() Stats {
	return Stats{
		Delivered: s.delivered.Load(), Attempts: s.attempts.Load(), Retries: s.retries.Load(),
		Failed: s.failed.Load(), Abandoned: s.abandoned.Load(), Dropped: s.sub.Dropped(),
		Filtered: s.filtered.Load(), Queued: len(s.sub.C), LastStatus: int(s.lastStatus.Load()),
	}
}

// Close stops taking new events and delivers those already queued until ctx ends; then it aborts
// the attempt in flight, counts what is left as abandoned and returns ctx's error. It returns nil
// when everything queued was dealt with (delivered or failed). It is safe to call more than once.
func (s *Sender) Close(ctx context.Context) error {
	s.close.Do(s.sub.Close) // C closes once its queued events are read
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
	}
	s.cancel()
	<-s.done
	if n := s.abandoned.Load(); n > 0 {
		s.log.Warn("webhook: gave up at shutdown", "abandoned", n)
	}
	return ctx.Err()
}

func (s *Sender) run() {
	defer close(s.done)
	defer s.cancel()
	for e := range s.sub.C {
		if s.filter != nil && !s.filter[e.Type] {
			s.filtered.Add(1)
			continue
		}
		if s.ctx.Err() != nil {
			s.abandoned.Add(1)
			continue
		}
		s.deliver(e)
	}
}

// deliver sends e until the endpoint accepts it, refuses it, or its retry budget is spent.
func (s *Sender) deliver(e bridge.Event) {
	body, err := json.Marshal(e)
	if err != nil {
		// A Data value that JSON cannot carry is a bug upstream; the event cannot be sent as is.
		s.failed.Add(1)
		s.log.Error("webhook: event cannot be encoded", "id", e.ID, "type", e.Type, "err", err)
		return
	}
	start := time.Now()
	backoff := s.cfg.MinBackoff
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			s.retries.Add(1)
		}
		retry, wait, err := s.attempt(e, body)
		if err == nil {
			s.delivered.Add(1)
			return
		}
		if s.ctx.Err() != nil {
			s.abandoned.Add(1)
			return
		}
		if !retry {
			s.failed.Add(1)
			s.log.Warn("webhook: event refused", "id", e.ID, "type", e.Type, "err", err)
			return
		}
		if wait == 0 {
			wait = backoff
			// Up to a fifth more, so that several confds do not retry in step.
			wait += time.Duration(rand.Int64N(int64(wait)/5 + 1))
		}
		wait = min(wait, s.cfg.MaxBackoff)
		if attempt >= s.cfg.MaxAttempts || time.Since(start)+wait > s.cfg.MaxRetryTime {
			s.failed.Add(1)
			s.log.Warn("webhook: event given up", "id", e.ID, "type", e.Type, "attempts", attempt, "err", err)
			return
		}
		s.log.Debug("webhook: retrying", "id", e.ID, "attempt", attempt, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			s.abandoned.Add(1)
			return
		}
		backoff = min(backoff*2, s.cfg.MaxBackoff)
	}
}

// errStatus is an attempt answered with a status that is not 2xx.
type errStatus int

func (e errStatus) Error() string { return "HTTP " + strconv.Itoa(int(e)) }

// attempt makes one request. It returns nil when the endpoint accepted the event; otherwise
// whether to retry and, when the endpoint said so with Retry-After, how long to wait.
func (s *Sender) attempt(e bridge.Event, body []byte) (retry bool, wait time.Duration, err error) {
	s.attempts.Add(1)
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return false, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "confd-webhook")
	// Set directly: Header.Set would canonicalise the names to Webhook-Id and so on, which
	// HTTP/1.1 receivers read alike but the specification spells in lower case.
	now := time.Now()
	req.Header[HeaderID] = []string{e.ID}
	req.Header[HeaderTimestamp] = []string{strconv.FormatInt(now.Unix(), 10)}
	req.Header.Set(HeaderEvent, string(e.Type))
	if s.cfg.Secret != "" {
		req.Header[HeaderSignature] = []string{Sign(s.key, e.ID, now, body)}
	}
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		s.lastStatus.Store(0)
		return true, 0, err
	}
	// Read a little of the body so that the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	s.lastStatus.Store(int64(resp.StatusCode))
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return false, 0, nil
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs >= 0 {
			wait = time.Duration(secs) * time.Second
		}
		return true, wait, errStatus(code)
	default:
		return false, 0, errStatus(code)
	}
}

// Group is the Senders of every configured endpoint.
type Group struct {
	senders []*Sender
}

// NewGroup starts one Sender per Config; on a bad Config it starts none and returns the error.
func NewGroup(bus *bridge.Bus, cfgs []Config, opts ...Option) (*Group, error) {
	g := &Group{}
	for _, c := range cfgs {
		s, err := New(bus, c, opts...)
		if err != nil {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_ = g.Close(ctx)
			return nil, err
		}
		g.senders = append(g.senders, s)
	}
	return g, nil
}

// Senders returns the group's Senders, in the order of the Configs.
func (g *Group) Senders() []*Sender { return g.senders }

// Close closes every Sender at once, each with ctx (see Sender.Close), and returns their errors.
func (g *Group) Close(ctx context.Context) error {
	errs := make([]error, len(g.senders))
	var wg sync.WaitGroup
	for i, s := range g.senders {
		wg.Go(func() { errs[i] = s.Close(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
