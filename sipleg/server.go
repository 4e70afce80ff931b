package sipleg

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"confd/bridge"
	"confd/codec"
	"confd/internal/guard"
	"confd/sdpneg"
	"confd/sipua"
)

// rfc2543Tag is the From tag given to the dialog of an RFC 2543 caller that sent none.
const rfc2543Tag = "rfc2543"

// Config sets up a Server. Ports is required; every other zero value is a documented default.
type Config struct {
	// Ports hands out the media ports of every call (-rtp). Required.
	Ports *PortAllocator
	// PublicIP is the address written into SDP (-public-ip). Zero means the SIP listener's own
	// address if it is a specific one, else 127.0.0.1.
	PublicIP netip.Addr
	// Codecs are the codecs answered and offered, in confd's order of preference. Empty means
	// Opus, PCMU, PCMA, then G.722 when the codec package has both its encoder and decoder
	// (docs/SPEC.md "Joining": G.722 where the engine has it).
	Codecs []codec.Codec
	// DialIn are the dial-in numbers (request-URI users) that lead to the IVR; they take
	// precedence over room names (docs/SPEC.md "Rooms").
	DialIn []string
	// Auth says who may call in (restricted to trunks and digest users, or open); the zero
	// value is open to everyone.
	Auth sipua.AuthConfig
	// Limits bound what one source may cost; each zero value is its default.
	Limits Limits
	// DialOut limits where and how often confd dials out; the zero value allows everything
	// at 1 per second.
	DialOut DialOut
	// Credentials answer digest challenges on dial-out: by exact realm, and host when given.
	Credentials []Credential
	// Register are the outbound registrations kept up while the server runs.
	Register []Registration
	// NoMediaTimeout hangs up a call (not on hold) that sent no RTP for this long. Zero means
	// 30 s.
	NoMediaTimeout time.Duration
	// RetryAfter is the Retry-After, in seconds, of the 503 answered while draining. Zero means
	// 60.
	RetryAfter int
	// IVRDigitTimeout is how long the IVR waits for the next digit. Zero means 10 s.
	IVRDigitTimeout time.Duration
	// IVRTries is how many wrong meeting numbers or PINs the IVR accepts before saying goodbye.
	// Zero means 3.
	IVRTries int
	// OnResponse, when set, is told the status code of every SIP response sent (sent true)
	// or received on the SIP sockets (for metrics). It must not block.
	OnResponse func(code int, sent bool)
	// Attempts throttles PIN guessing in the IVR; one Attempts is shared by every leg that
	// checks a room PIN. Nil means the server makes its own with default settings.
	Attempts *guard.Attempts
	// Cascade, when set, says whether an INVITE carrying the X-Confd-Cascade header naming
	// node may come from src: a cascade leg of another confd node (cascade.go). Nil refuses
	// every such INVITE (403).
	Cascade func(src netip.Addr, node string) bool
	// CascadeBitrate is the Opus bitrate, in bit/s, of what a cascade leg is sent. Zero means
	// the codec's default.
	CascadeBitrate int

	// t1 is the RFC 3261 round-trip estimate of the server's own timers (2xx retransmission,
	// Timer H = 64*T1 for an un-ACKed 2xx). Zero means sip.T1 (500 ms); tests shorten it.
	t1 time.Duration
}

// Option changes how a Server reports, not what it does.
type Option func(*Server)

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// Server is confd's SIP user agent: the UAS that callers dial into rooms (RFC 3261), the UAC of
// dial-out, and the client of the outbound registrations. Each call is a bridge participant
// whose media is a MediaSocket.
type Server struct {
	cfg    Config
	bridge *bridge.Bridge
	log    *slog.Logger

	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	client  *sipgo.Client
	dialogs *sipgo.DialogServerCache
	// dialClients holds the dial-out dialogs.
	dialClients *sipgo.DialogClientCache
	contact     sip.ContactHeader
	gate        *sipua.Gate
	dialOut     *dialPolicy
	valid       *validator
	limits      Limits
	trunks      []netip.Prefix
	door        *door
	tcp         *validatingListener

	mu      sync.Mutex
	calls   map[string]*call // by Call-ID
	udpAddr netip.AddrPort
	// udpLocal is the UDP listener's address when it is bound to one (fromListener), else zero.
	udpLocal sip.Addr
	regs     []*registration

	closed atomic.Bool
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewServer returns a server that joins calls to b's rooms.
func NewServer(b *bridge.Bridge, cfg Config, opts ...Option) (*Server, error) {
	if cfg.Ports == nil {
		return nil, errors.New("sipleg: Config.Ports is required")
	}
	cfg.NoMediaTimeout = cmp.Or(cfg.NoMediaTimeout, 30*time.Second)
	cfg.RetryAfter = cmp.Or(cfg.RetryAfter, bridge.DrainingRetryAfter)
	cfg.IVRDigitTimeout = cmp.Or(cfg.IVRDigitTimeout, 10*time.Second)
	cfg.IVRTries = cmp.Or(cfg.IVRTries, 3)
	cfg.t1 = cmp.Or(cfg.t1, sip.T1)
	if len(cfg.Codecs) == 0 {
		cfg.Codecs = engineCodecs()
	}
	if cfg.Attempts == nil {
		cfg.Attempts = guard.NewAttempts(guard.AttemptsConfig{})
	}
	s := &Server{cfg: cfg, bridge: b, log: slog.Default(), calls: map[string]*call{},
		limits: cfg.Limits.WithDefaults(), trunks: cfg.Auth.Trunks}
	s.door = newDoor(s.limits, s.trunks)
	for _, o := range opts {
		o(s)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.gate = &sipua.Gate{Bridge: b, RetryAfter: cfg.RetryAfter, Auth: sipua.NewAuth(cfg.Auth, nil)}
	dialOut, err := newDialPolicy(cfg.DialOut)
	if err != nil {
		return nil, fmt.Errorf("sipleg: DialOut.Allow: %w", err)
	}
	s.dialOut = dialOut
	s.valid = newValidator()
	s.valid.onResponse = cfg.OnResponse
	s.valid.admit = s.admitMessage
	s.valid.mayAnswer = func(src netip.Addr) bool { return s.door.shouldAnswerBroken(src, time.Now()) }
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("confd"))
	if err != nil {
		return nil, err
	}
	s.ua = ua
	if s.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(s.log)); err != nil {
		return nil, err
	}
	if s.client, err = sipgo.NewClient(ua, sipgo.WithClientLogger(s.log)); err != nil {
		return nil, err
	}
	s.srv.OnInvite(s.onInvite)
	s.srv.OnAck(s.onAck)
	s.srv.OnBye(s.inCall((*call).bye))
	s.srv.OnCancel(s.onCancel)
	s.srv.OnOptions(s.onOptions)
	s.srv.OnUpdate(s.inCall(func(c *call, req *sip.Request, tx sip.ServerTransaction) { c.modify(req, tx, false) }))
	s.srv.OnInfo(s.inCall((*call).info))
	s.srv.OnNotify(s.inCall((*call).notify)) // a transfer's progress (transfer.go)
	s.srv.OnNoRoute(s.onNoRoute)
	return s, nil
}

func init() {
	// sipgo refuses to write any UDP message over 1300 bytes. RFC 3261 section 18.1.1 moves
	// only large requests to TCP; a response has no such fallback and must go back over UDP
	// (section 18.2.2), so a long but valid INVITE (RFC 4475 section 3.1.1.7) would never be
	// answered. The limit is raised to the largest UDP datagram.
	sip.UDPMTUSize = 65535
}

// engineCodecs lists, in confd's order of preference, the codecs the engine can both encode and
// decode: Opus first (wideband, FEC), the G.711 pair every phone has, then G.722.
func engineCodecs() []codec.Codec {
	var out []codec.Codec
	for _, c := range []codec.Codec{codec.Opus, codec.PCMU, codec.PCMA, codec.G722} {
		if _, err := codec.NewEncoder(codec.Format{Codec: c}); err != nil {
			continue
		}
		if _, err := codec.NewDecoder(c); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// allowed is the Allow header of every response that lists the methods (RFC 3261 section 20.5).
const allowed = "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO"

// Serve answers SIP on udp and tcp (either may be nil) until ctx ends or Shutdown. Every
// message first passes the validator (validate.go), which answers what sipgo would accept or
// drop silently. It starts the outbound registrations and the media watchdog.
func (s *Server) Serve(ctx context.Context, udp net.PacketConn, tcp net.Listener) error {
	var addr net.Addr
	if udp != nil {
		addr = udp.LocalAddr()
	} else if tcp != nil {
		addr = tcp.Addr()
	} else {
		return errors.New("sipleg: nothing to serve")
	}
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.udpAddr = ap
	// sipgo knows the listener by its address without a zone: on a link-local one (fe80::…%eth0)
	// it would bind a socket of its own to the listener's port, and fail.
	if udp != nil && !ap.Addr().IsUnspecified() && ap.Addr().Zone() == "" {
		s.udpLocal = sip.Addr{IP: net.IP(ap.Addr().Unmap().AsSlice()), Port: int(ap.Port())}
	}
	host := s.sdpAddr(ap.Addr())
	s.contact = sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "confd", Host: host.String(), Port: int(ap.Port())}}
	// Requests confd sends name the address it listens on, so that answers and in-dialog
	// requests come back to the server.
	// Listening on one address, they are also sent from it (not from whatever address the
	// kernel picks for the destination): a cluster node's cascade calls must come from the
	// node's configured address (cascade.go).
	opts := []sipgo.ClientOption{sipgo.WithClientLogger(s.log), sipgo.WithClientHostname(host.String())}
	if !ap.Addr().IsUnspecified() {
		opts = append(opts, sipgo.WithClientConnectionAddr(netip.AddrPortFrom(ap.Addr(), 0).String()))
	}
	if cl, err := sipgo.NewClient(s.ua, opts...); err == nil {
		s.client.Close()
		s.client = cl
	}
	s.dialogs = sipgo.NewDialogServerCache(s.client, s.contact)
	s.dialClients = sipgo.NewDialogClientCache(s.client, s.contact)
	s.mu.Unlock()

	errc := make(chan error, 2)
	n := 0
	if udp != nil {
		n++
		go func() { errc <- s.srv.ServeUDP(&validatingPacketConn{PacketConn: udp, v: s.valid}) }()
	}
	if tcp != nil {
		n++
		s.mu.Lock()
		s.tcp = newValidatingListener(tcp, s.valid, s.limits, s.trunks)
		s.mu.Unlock()
		go func() { errc <- s.srv.ServeTCP(s.tcp) }()
	}
	s.wg.Add(1)
	go s.watchdog()
	s.startRegistrations()
	select {
	case <-ctx.Done():
	case <-s.ctx.Done():
	case err = <-errc:
		n--
	}
	if udp != nil {
		udp.Close()
	}
	if tcp != nil {
		tcp.Close()
	}
	for range n {
		<-errc
	}
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// ListenAndServe listens on addr (-sip) over UDP and TCP and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	udp, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	tcp, err := net.Listen("tcp", udp.LocalAddr().String())
	if err != nil {
		udp.Close()
		return err
	}
	return s.Serve(ctx, udp, tcp)
}

// sdpAddr is the address written in Contact, and in SDP when the peer is not known: -public-ip,
// else the SIP listener's own address if it is a specific one, else the address of the
// interface that holds the default route, else 127.0.0.1 (docs/SPEC.md "Start": -public-ip).
func (s *Server) sdpAddr(listen netip.Addr) netip.Addr {
	return s.addrFor(listen, "")
}

// addrFor is sdpAddr for a call with peer ("host:port" or "host"): with neither -public-ip nor
// a specific listener, the address of the interface that reaches that peer.
func (s *Server) addrFor(listen netip.Addr, peer string) netip.Addr {
	if s.cfg.PublicIP.IsValid() {
		return s.cfg.PublicIP
	}
	if listen.IsValid() && !listen.IsUnspecified() {
		return listen.Unmap()
	}
	if peer != "" {
		if a, ok := routeAddr(peer); ok {
			return a
		}
	}
	// 192.0.2.1 (TEST-NET-1, RFC 5737) stands for "anywhere": only the route is looked up.
	if a, ok := routeAddr("192.0.2.1"); ok {
		return a
	}
	return netip.MustParseAddr("127.0.0.1")
}

// routeAddr returns the local address that packets to peer would leave from. Connecting a UDP
// socket only consults the routing table: nothing is sent.
func routeAddr(peer string) (netip.Addr, bool) {
	host := peer
	if h, _, err := net.SplitHostPort(peer); err == nil {
		host = h
	}
	conn, err := net.Dial("udp", net.JoinHostPort(host, "9"))
	if err != nil {
		return netip.Addr{}, false
	}
	defer conn.Close()
	ap, err := netip.ParseAddrPort(conn.LocalAddr().String())
	if err != nil || ap.Addr().IsUnspecified() {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// Addr returns the address SIP is served on (the UDP listener's, else TCP's).
func (s *Server) Addr() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.udpAddr
}

// Calls returns how many calls are up (in a room or in the IVR).
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// Drain refuses new calls from now on: INVITEs get 503 with Retry-After (RFC 3261 section
// 21.5.4) and DialOut fails with ErrDraining; calls in progress go on.
func (s *Server) Drain() { s.gate.Drain() }

// shutdownByeWait bounds how long Shutdown waits for the answers to its BYEs: long enough for
// a few retransmissions over UDP, short enough that SIGTERM is honoured at once even when
// the peers are gone (a flood's dialogs, a phone that lost its network).
const shutdownByeWait = 2 * time.Second

// Shutdown drains, sends BYE on every confirmed call (all at once, each retransmitted by its
// transaction until answered, for at most shutdownByeWait or until ctx ends), ends the calls
// whose 2xx was never ACKed without a BYE (RFC 3261 section 15: a BYE waits for the ACK, and
// a dialog nobody confirmed has nobody to tell), withdraws the registrations and stops
// serving.
func (s *Server) Shutdown(ctx context.Context) error {
	s.Drain()
	s.mu.Lock()
	calls := make([]*call, 0, len(s.calls))
	for _, c := range s.calls {
		calls = append(calls, c)
	}
	s.mu.Unlock()
	byeCtx, cancel := context.WithTimeout(ctx, shutdownByeWait)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range calls {
		if !c.isConfirmed() {
			c.end("shutdown")
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.hangup(byeCtx, "shutdown")
		}()
	}
	wg.Wait()
	s.stopRegistrations(ctx)
	if s.closed.CompareAndSwap(false, true) {
		s.cancel()
		s.wg.Wait()
		s.srv.Close()
		s.client.Close()
		s.ua.Close()
	}
	return ctx.Err()
}

// watchdog hangs up calls whose media stopped and keeps their session timers.
func (s *Server) watchdog() {
	defer s.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			s.mu.Lock()
			calls := make([]*call, 0, len(s.calls))
			for _, c := range s.calls {
				calls = append(calls, c)
			}
			s.mu.Unlock()
			for _, c := range calls {
				c.tick(now)
			}
		}
	}
}

func (s *Server) addCall(c *call) {
	s.mu.Lock()
	s.calls[c.callID] = c
	s.mu.Unlock()
}

func (s *Server) removeCall(c *call) {
	s.mu.Lock()
	if s.calls[c.callID] == c {
		delete(s.calls, c.callID)
	}
	s.mu.Unlock()
}

// callByID returns the call with req's Call-ID, whatever its tags: only to tell a second
// INVITE of a live Call-ID (482), never to act on a request.
func (s *Server) callByID(req *sip.Request) *call {
	id := req.CallID()
	if id == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id.Value()]
}

// callFor returns the call whose dialog req belongs to: the same Call-ID and both tags, the
// From tag the remote's and the To tag confd's (RFC 3261 section 12.2.2). A Call-ID alone is
// no proof: it travels in the clear, while confd's tag is random (sipgo draws a UUID from
// crypto/rand) and only the real peer has seen it. The source address is not compared: NAT
// may change it mid-call.
func (s *Server) callFor(req *sip.Request) *call {
	c := s.callByID(req)
	if c == nil {
		return nil
	}
	local, remote, ok := c.tags()
	if !ok || local == "" {
		return nil
	}
	to, from := req.To(), req.From()
	if to == nil || from == nil {
		return nil
	}
	toTag, _ := to.Params.Get("tag")
	fromTag, hasFrom := from.Params.Get("tag")
	if !hasFrom && remote == rfc2543Tag {
		fromTag = rfc2543Tag // an RFC 2543 peer sends no From tag in the dialog either
	}
	if toTag != local || fromTag != remote {
		return nil
	}
	return c
}

func (s *Server) isDialIn(user string) bool {
	for _, n := range s.cfg.DialIn {
		if n == user {
			return true
		}
	}
	return false
}

// local is confd's side of a negotiation on a media port with peer (its signalling address or
// host, "" when unknown).
func (s *Server) local(port int, peer string) sdpneg.Local {
	return sdpneg.Local{Addr: s.addrFor(s.Addr().Addr(), peer), Port: port, Codecs: s.cfg.Codecs}
}

// respond answers req with a status, a reason and extra headers, outside any dialog
// (sipua.Response: the reason made printable).
func respond(tx sip.ServerTransaction, req *sip.Request, status int, reason string, hdrs ...sip.Header) {
	_ = tx.Respond(sipua.Response(req, status, reason, hdrs...))
}

// refuse answers req with a refusal of the admission pipeline (sipua.Gate), outside any dialog.
func refuse(tx sip.ServerTransaction, req *sip.Request, r *sipua.Refusal) {
	respond(tx, req, r.Status, r.Reason, r.Headers...)
}

func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if r := s.gate.Open(); r != nil {
		// A proxy's health check (Kamailio's dispatcher pings with OPTIONS) takes this node
		// out of its set, so new calls go elsewhere while the ones here finish.
		refuse(tx, req, r)
		return
	}
	respond(tx, req, 200, "OK", sip.NewHeader("Allow", allowed), sip.NewHeader("Accept", "application/sdp"))
}

// onNoRoute answers a method sipleg does not serve: 405 for one SIP defines, 501 for one it
// does not (sipua.MethodRefusal).
func (s *Server) onNoRoute(req *sip.Request, tx sip.ServerTransaction) {
	refuse(tx, req, sipua.MethodRefusal(req.Method, allowed))
}

func (s *Server) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	// The transaction layer matches a CANCEL to its INVITE (RFC 3261 section 9.2) and the
	// dialog ends with it; a CANCEL that matches nothing lands here.
	respond(tx, req, 481, "Call/Transaction Does Not Exist")
}

func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	c := s.callFor(req)
	if c == nil {
		return
	}
	c.ack(req, tx)
}

// inCall wraps a handler of an in-dialog request: requests that match no call get 481
// (RFC 3261 section 12.2.2).
func (s *Server) inCall(f func(c *call, req *sip.Request, tx sip.ServerTransaction)) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		c := s.callFor(req)
		if c == nil {
			respond(tx, req, 481, "Call/Transaction Does Not Exist")
			return
		}
		f(c, req, tx)
	}
}

func (s *Server) onReInvite(req *sip.Request, tx sip.ServerTransaction) {
	s.inCall(func(c *call, req *sip.Request, tx sip.ServerTransaction) { c.modify(req, tx, true) })(req, tx)
}

// callerOf returns the display name and URI of a request's From (docs/SPEC.md: "name" and "from").
func callerOf(req *sip.Request) (name, from string) {
	f := req.From()
	if f == nil {
		return "", ""
	}
	return f.DisplayName, f.Address.String()
}

var errCallEnded = fmt.Errorf("%w: call ended", ErrClosed)
