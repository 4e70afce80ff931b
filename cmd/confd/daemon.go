package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"time"

	"confd/bridge"
	"confd/cluster"
	"confd/internal/api"
	"confd/internal/config"
	"confd/internal/guard"
	"confd/internal/metrics"
	"confd/internal/recording"
	"confd/internal/webhook"
	"confd/rtpfwd"
	"confd/sipleg"
	"confd/sipws"
	"confd/web"
	"confd/webrtcleg"
)

// daemon holds confd's parts and their order of start and stop.
type daemon struct {
	cfg      config.Config
	log      *slog.Logger
	bridge   *bridge.Bridge
	http     *http.Server
	httpLn   net.Listener
	where    reachability // how other devices reach confd, worked out once at start (banner.go)
	conns    *api.ConnLimiter
	tokenSrc string // where the API token came from: flag, file, env or generated
	sip      *sipleg.Server
	webrtc   *webrtcleg.Server
	sipws    *sipws.Server
	pins     *guard.Attempts // the room PIN guesses of every leg
	metrics  *metrics.Metrics
	hooks    *webhook.Group
	recorder *recording.Manager
	chimes   *recording.Chimes
	fwd      *rtpfwd.Manager // RTP forwarders ([forwarders])
	sipUDP   net.PacketConn
	sipTCP   net.Listener
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{}
	nodes    *cluster.Nodes   // [cluster]; nil on a node alone
	declarer cluster.Declarer // where a cluster node's catching up applies declarations
	seats    *cluster.Seats   // a room's limit across the nodes
}

func newDaemon(cfg config.Config, log *slog.Logger) (*daemon, error) {
	rooms := map[string]bridge.RoomSettings{}
	for _, r := range cfg.Rooms {
		rooms[r.Name] = r.Settings() // checked by config.Validate
	}
	d := &daemon{cfg: cfg, log: log, done: make(chan struct{})}
	var err error
	var declared *api.RoomStore // rooms declared with PUT, over the config file's (-data-dir)
	if cfg.DataDir != "" {
		if declared, err = api.OpenRoomStore(cfg.DataDir); err != nil {
			return nil, fmt.Errorf("-data-dir: %w", err)
		}
		maps.Copy(rooms, declared.Rooms())
	}
	if d.tokenSrc, err = d.cfg.ResolveAPIToken(os.Getenv); err != nil {
		return nil, err
	}
	cfg = d.cfg
	roomTokens := api.NewRoomTokensFrom(cfg.APIToken, 0) // one key for the nodes of a cluster
	// One count of PIN guesses for every leg that checks a room PIN (IVR, WHIP, WHEP, SIP over
	// WebSocket): a guesser gains nothing by switching doors.
	pinAttempts := guard.NewAttempts(guard.AttemptsConfig{})
	d.pins = pinAttempts
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.bridge = bridge.New(bridge.Config{Rooms: rooms, Observer: lateObserver{&d.metrics}}, bridge.WithLogger(log))
	if err := d.bridge.LoadHoldMusic(); err != nil { // decoded once, shared by the rooms
		d.cancel()
		return nil, err
	}

	ports, err := sipleg.NewPortAllocator(cfg.RTP.Low, cfg.RTP.High, netip.Addr{})
	if err != nil {
		return nil, fmt.Errorf("-rtp %s: %w", cfg.RTP, err)
	}
	sipCfg := sipLegConfig(cfg) // legs.go
	sipCfg.Ports, sipCfg.Attempts = ports, pinAttempts
	sipCfg.OnResponse = func(code int, sent bool) { d.metrics.SIPResponse(code, sent) }
	d.clusterSIP(&sipCfg)
	d.sip, err = sipleg.NewServer(d.bridge, sipCfg, sipleg.WithLogger(log))
	if err != nil {
		return nil, err
	}

	wcfg, err := webrtcConfig(cfg) // -public-ip, -rtp, ICE settings, [security.webrtc]
	if err != nil {
		return nil, err
	}
	wcfg.RoomToken, wcfg.Attempts = roomTokens.Mint, pinAttempts
	d.webrtc, err = webrtcleg.New(d.bridge, wcfg, webrtcleg.WithLogger(log))
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.Handle("/whip/", d.webrtc.Handler())
	mux.Handle("/whep/", d.webrtc.Handler())
	mux.Handle("/", web.Handler())
	wsCfg := sipwsConfig(cfg) // legs.go
	wsCfg.RoomToken, wsCfg.Attempts = roomTokens.Mint, pinAttempts
	d.sipws = sipws.New(d.bridge, d.webrtc, wsCfg, sipws.WithLogger(log))
	mux.Handle("/sip", d.sipws)
	d.metrics = metrics.New(d.bridge, metrics.WithLogger(log), metrics.WithRegistrations(d.registrations),
		metrics.WithCollector(legCollector{d}), metrics.WithRoomLabels(cfg.HTTPSecurity.MetricsRoomLabels),
		metrics.WithToken(cfg.HTTPSecurity.MetricsToken))
	mux.Handle("GET /metrics", d.metrics.Handler())
	allow, err := cfg.Forwarders.Destinations() // validated by config
	if err != nil {
		return nil, err
	}
	d.fwd = rtpfwd.NewManager(d.bridge, rtpfwd.Config{Allow: allow, PerRoom: cfg.Forwarders.PerRoom, Logger: log})
	a := api.New(d.bridge, api.Config{
		Token: cfg.APIToken, RoomTokens: roomTokens, AllowedOrigins: cfg.HTTPSecurity.AllowedOrigins,
		Dialer: dialer{d.sip}, Rooms: declared, Forwarders: d.fwd,
		Ready: func() bool { return !d.bridge.Draining() },
	}, log)
	a.HandlePublic("GET /api/info", d.serveInfo) // how to call in, for the join page
	if err := d.startOps(a); err != nil {
		return nil, err
	}
	mux.Handle("/api/", d.clusterAPI(a, declared))
	mux.Handle("/healthz", a)
	mux.Handle("/readyz", a)
	d.http = api.NewServer(mux, httpLimits(cfg), log)
	return d, nil
}

func (d *daemon) start() error {
	var err error
	if d.sipUDP, d.sipTCP, err = listenSIP(d.cfg.SIP); err != nil {
		return err
	}
	go func() {
		defer close(d.done)
		if err := d.sip.Serve(d.ctx, d.sipUDP, d.sipTCP); err != nil {
			d.log.Error("sip server", "err", err)
		}
	}()
	ln, err := net.Listen("tcp", d.cfg.HTTP)
	if err != nil {
		return fmt.Errorf("http %s: %w", d.cfg.HTTP, err)
	}
	d.httpLn = ln
	d.conns = api.LimitConns(ln, httpLimits(d.cfg), d.log)
	ln = d.conns
	tlsConf, err := d.tlsConfig()
	if err != nil {
		ln.Close()
		return err
	}
	if tlsConf != nil {
		ln = tls.NewListener(ln, tlsConf)
	}
	d.where = d.reach(d.httpLn.Addr(), d.sipUDP.LocalAddr(), tlsConf != nil) // before GET /api/info is served
	go func() {
		if err := d.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("http server", "err", err)
		}
	}()
	d.startCluster()
	d.log.Info("confd started", "http", ln.Addr().String(), "sip", d.sipUDP.LocalAddr().String(), "rtp", d.cfg.RTP.String())
	d.banner(ln.Addr(), d.sipUDP.LocalAddr())
	return nil
}

// registrations is the outbound SIP registrations' state as metrics exports it.
func (d *daemon) registrations() []metrics.Registration {
	var out []metrics.Registration
	for _, st := range d.sip.Registrations() {
		out = append(out, metrics.Registration{Registrar: st.Registrar, User: st.User, Registered: st.Registered, Refreshes: st.Refreshes})
	}
	return out
}

// drain refuses new calls and lets calls in progress go on for up to wait, returning early once
// every room is empty.
func (d *daemon) drain(wait time.Duration) {
	d.bridge.Drain()
	d.sip.Drain()
	d.sipws.Drain()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) && len(d.bridge.Participants()) > 0 {
		time.Sleep(100 * time.Millisecond)
	}
}

// shutdown hangs up every leg, waits for them to go, and stops the servers.
func (d *daemon) shutdown(ctx context.Context) {
	// SIP calls get a BYE each (retransmitted until answered or timed out) and the
	// registrations are withdrawn; every other leg is hung up through the bridge.
	if d.sipUDP != nil {
		_ = d.sip.Shutdown(ctx)
		d.cancel()
		<-d.done
	}
	_ = d.sipws.Shutdown(ctx)
	_ = d.webrtc.Close()
	d.bridge.HangupAll("shutdown")
	for ctx.Err() == nil && len(d.bridge.Participants()) > 0 {
		time.Sleep(50 * time.Millisecond)
	}
	d.stopOps(ctx)
	d.fwd.Close()
	d.bridge.Close()
	hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_ = d.http.Shutdown(hctx)
}

// dialer adapts the SIP server to the API's dial route.
type dialer struct{ s *sipleg.Server }

func (d dialer) Dial(ctx context.Context, room, uri string) (string, error) {
	return d.s.DialOut(ctx, room, uri)
}

// lateObserver hands the bridge's observations to the metrics, which are made after the bridge.
type lateObserver struct{ m **metrics.Metrics }

func (o lateObserver) ObserveTick(room string, d time.Duration) { (*o.m).ObserveTick(room, d) }
func (o lateObserver) ObserveJitterDelay(d time.Duration)       { (*o.m).ObserveJitterDelay(d) }

// listenSIP opens SIP's UDP and TCP listeners on one port (RFC 3261 section 18: a server listens
// on both). With port 0 the kernel picks the UDP port, which may be taken for TCP by another
// process: then another port is tried.
func listenSIP(addr string) (net.PacketConn, net.Listener, error) {
	_, port, _ := net.SplitHostPort(addr)
	for try := 0; ; try++ {
		udp, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("sip %s: %w", addr, err)
		}
		tcp, err := net.Listen("tcp", udp.LocalAddr().String())
		if err == nil {
			return udp, tcp, nil
		}
		udp.Close()
		if port != "0" || try == 20 {
			return nil, nil, fmt.Errorf("sip %s (tcp): %w", addr, err)
		}
	}
}
