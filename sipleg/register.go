package sipleg

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Registration back-off after a failure: from registerRetryMin doubling to registerRetryMax.
const (
	registerRetryMin = time.Second
	registerRetryMax = 5 * time.Minute
)

// registration keeps one Registration registered (RFC 3261 section 10): REGISTER with
// digest authentication, refreshed at three quarters of the granted expiry, retried with
// back-off after a failure, and withdrawn (Expires: 0) at shutdown.
type registration struct {
	s   *Server
	cfg Registration

	mu       sync.Mutex
	state    RegistrationState
	callID   string
	cseq     uint32
	cancel   context.CancelFunc
	finished chan struct{}
}

// RegistrationState is a snapshot of one outbound registration.
type RegistrationState struct {
	// Registrar and User name the entry.
	Registrar, User string
	// Registered is true while the registrar's last answer was 2xx and it has not expired.
	Registered bool
	// Expires is when the current registration lapses.
	Expires time.Time
	// Refreshes counts successful REGISTERs.
	Refreshes int
	// LastError is the last failure, if any.
	LastError string
}

// Registrations returns the state of every outbound registration.
func (s *Server) Registrations() []RegistrationState {
	s.mu.Lock()
	regs := append([]*registration(nil), s.regs...)
	s.mu.Unlock()
	out := make([]RegistrationState, 0, len(regs))
	for _, r := range regs {
		r.mu.Lock()
		st := r.state
		r.mu.Unlock()
		st.Registered = st.Registered && time.Now().Before(st.Expires)
		out = append(out, st)
	}
	return out
}

func (s *Server) startRegistrations() {
	for _, rc := range s.cfg.Register {
		ctx, cancel := context.WithCancel(s.ctx)
		r := &registration{s: s, cfg: rc, cancel: cancel, finished: make(chan struct{}),
			callID: fmt.Sprintf("reg-%d-%s@confd", time.Now().UnixNano(), rc.User)}
		r.state = RegistrationState{Registrar: rc.Registrar, User: rc.User}
		s.mu.Lock()
		s.regs = append(s.regs, r)
		s.mu.Unlock()
		go r.run(ctx)
	}
}

// stopRegistrations stops the refresh loops and withdraws every registration.
func (s *Server) stopRegistrations(ctx context.Context) {
	s.mu.Lock()
	regs := s.regs
	s.regs = nil
	s.mu.Unlock()
	for _, r := range regs {
		r.cancel()
		<-r.finished
		r.mu.Lock()
		was := r.state.Registered
		r.mu.Unlock()
		if was {
			if _, err := r.register(ctx, 0); err != nil {
				s.log.Info("unregister", "registrar", r.cfg.Registrar, "err", err)
			}
		}
	}
}

func (r *registration) run(ctx context.Context) {
	defer close(r.finished)
	expiry := r.cfg.Expiry
	if expiry <= 0 {
		expiry = time.Hour
	}
	backoff := registerRetryMin
	for {
		granted, err := r.register(ctx, expiry)
		wait := granted * 3 / 4
		r.mu.Lock()
		if err != nil {
			r.state.LastError = err.Error()
			r.state.Registered = false
			wait = backoff
			backoff = min(2*backoff, registerRetryMax)
		} else {
			r.state.Registered, r.state.Expires, r.state.LastError = true, time.Now().Add(granted), ""
			r.state.Refreshes++
			backoff = registerRetryMin
		}
		r.mu.Unlock()
		if err != nil {
			r.s.log.Warn("register failed", "registrar", r.cfg.Registrar, "user", r.cfg.User, "err", err, "retry", wait)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(max(wait, 500*time.Millisecond)):
		}
	}
}

// register sends one REGISTER asking for expiry and returns the expiry granted.
func (r *registration) register(ctx context.Context, expiry time.Duration) (time.Duration, error) {
	var registrar sip.Uri
	if err := sip.ParseUri(r.cfg.Registrar, &registrar); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrBadURI, err)
	}
	domain := r.cfg.Domain
	domain = cmp.Or(domain, registrar.Host)
	aor := sip.Uri{Scheme: "sip", User: r.cfg.User, Host: domain}
	r.s.mu.Lock()
	contact := r.s.contact
	r.s.mu.Unlock()
	contact.Address.User = r.cfg.User
	r.mu.Lock()
	r.cseq++
	cseq := r.cseq
	r.mu.Unlock()

	req := sip.NewRequest(sip.REGISTER, registrar)
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", strconv.FormatInt(time.Now().UnixNano(), 36))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor})
	callID := sip.CallIDHeader(r.callID)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: sip.REGISTER})
	req.AppendHeader(&contact)
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expiry/time.Second))))
	ctx, cancel := context.WithTimeout(ctx, 32*time.Second)
	defer cancel()
	res, err := r.s.client.Do(ctx, req)
	if err != nil {
		return 0, err
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		r.mu.Lock()
		r.cseq++
		r.mu.Unlock()
		res, err = r.s.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: r.cfg.User, Password: r.cfg.Password})
		if err != nil {
			return 0, err
		}
	}
	if !res.IsSuccess() {
		return 0, fmt.Errorf("registrar answered %d %s", res.StatusCode, res.Reason)
	}
	granted := expiry
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(h.Value()); err == nil {
			granted = time.Duration(n) * time.Second
		}
	}
	if ct := res.Contact(); ct != nil {
		if v, ok := ct.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil {
				granted = time.Duration(n) * time.Second
			}
		}
	}
	return granted, nil
}
