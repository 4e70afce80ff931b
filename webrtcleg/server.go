package webrtcleg

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/sdp/v3"
	"github.com/pion/stun/v4"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"

	"confd/bridge"
	"confd/internal/guard"
)

// Payload types confd offers for what a browser may send besides Opus. The answer takes the
// offerer's numbers (RFC 3264 section 6.1); these only matter where confd writes its own.
const (
	opusPT           = 111
	telephoneEvent48 = 110
	telephoneEvent8  = 126
)

// opusFmtp is the fmtp of confd's Opus: in-band FEC and DTX both ways (RFC 7587 section 6.1),
// 10 ms packets accepted from browsers that send them.
const opusFmtp = "minptime=10;useinbandfec=1;usedtx=1"

// Server answers WebRTC offers (WHIP, WHEP, SIP over WebSocket) with one PeerConnection per
// participant, joined to the bridge as a leg.
type Server struct {
	b     *bridge.Bridge
	cfg   Config
	log   *slog.Logger
	net   transport.Net
	media *webrtc.MediaEngine
	ir    *interceptor.Registry
	se    webrtc.SettingEngine // each call's API adds its own remote candidate budget
	mux   io.Closer
	pcCfg webrtc.Configuration

	// admission holds the caps on sessions per source and overall; attempts the PIN guesses.
	admission *guard.Admission
	attempts  *guard.Attempts

	mu     sync.Mutex
	calls  map[string]*Call
	closed bool
	stats  counters
}

// New returns a Server whose legs join rooms of b. It opens the shared UDP port when
// cfg.UDPPort is set.
func New(b *bridge.Bridge, cfg Config, opts ...Option) (*Server, error) {
	s := &Server{b: b, cfg: cfg, log: slog.Default(), calls: map[string]*Call{},
		admission: guard.NewAdmission(cfg.admission()), attempts: cfg.Attempts}
	if s.attempts == nil {
		s.attempts = guard.NewAttempts(guard.AttemptsConfig{})
	}
	for _, o := range opts {
		o(s)
	}
	s.log = s.log.With("component", "webrtc")
	for _, is := range cfg.ICEServers {
		if len(is.URLs) == 0 {
			return nil, fmt.Errorf("webrtcleg: an ICE server without urls")
		}
		for _, u := range is.URLs {
			if _, err := stunURI(u); err != nil {
				return nil, fmt.Errorf("webrtcleg: ICE server %q: %w", u, err)
			}
		}
		s.pcCfg.ICEServers = append(s.pcCfg.ICEServers, webrtc.ICEServer{
			URLs: is.URLs, Username: is.Username, Credential: is.Credential,
		})
	}

	m := &webrtc.MediaEngine{}
	codecs := []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: opusFmtp}, PayloadType: opusPT},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "audio/telephone-event", ClockRate: 48000, SDPFmtpLine: "0-15"}, PayloadType: telephoneEvent48},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "audio/telephone-event", ClockRate: 8000, SDPFmtpLine: "0-15"}, PayloadType: telephoneEvent8},
	}
	for _, c := range codecs {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, err
		}
	}
	// RFC 6464: the browser tells each packet's level, so silent browsers are not decoded.
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	// No interceptors: no NACK (browsers do not negotiate it for Opus), no transport-wide
	// congestion control (nothing in confd would act on it), and no report interceptors, whose
	// receiver side allocates for every packet read (interceptor.Attributes.GetRTPHeader). The
	// bridge already keeps RFC 3550 statistics of both streams and its room sends each Call's
	// reports (leg.SendRTCP), so pion's per-packet path is SRTP alone.
	ir := &interceptor.Registry{}

	var se webrtc.SettingEngine
	if s.net != nil {
		se.SetNet(s.net)
	}
	if cfg.DisconnectedTimeout > 0 || cfg.FailedTimeout > 0 || cfg.KeepAlive > 0 {
		se.SetICETimeouts(orDefault(cfg.DisconnectedTimeout, 5*time.Second),
			orDefault(cfg.FailedTimeout, 25*time.Second), orDefault(cfg.KeepAlive, 2*time.Second))
	}
	se.SetLite(cfg.ICELite)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	// confd answers from its own addresses; a browser's mDNS (.local) candidates become
	// peer-reflexive once its checks arrive, so confd needs no multicast socket per leg.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	// Loopback candidates let a browser on the same machine (and the tests) connect; a remote
	// browser's checks to 127.0.0.1 fail harmlessly on its side.
	se.SetIncludeLoopbackCandidate(true)
	keep := ipFilter(cfg.ListenIPs)
	if keep != nil {
		se.SetIPFilter(keep)
	}
	if cfg.PublicIP.IsValid() {
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External: []string{cfg.PublicIP.String()}, AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode: webrtc.ICEAddressRewriteReplace,
		}); err != nil {
			return nil, fmt.Errorf("webrtcleg: public IP %s: %w", cfg.PublicIP, err)
		}
	}
	switch {
	case cfg.UDPPort > 0:
		mux, err := s.openMux(keep)
		if err != nil {
			return nil, err
		}
		s.mux = mux
		se.SetICEUDPMux(mux)
	case cfg.MinPort > 0 && cfg.MaxPort >= cfg.MinPort:
		if err := se.SetEphemeralUDPPortRange(cfg.MinPort, cfg.MaxPort); err != nil {
			return nil, fmt.Errorf("webrtcleg: ports %d-%d: %w", cfg.MinPort, cfg.MaxPort, err)
		}
	}
	se.LoggerFactory = logging.NewDefaultLoggerFactory() // one for every call's API
	s.media, s.ir, s.se = m, ir, se
	return s, nil
}

// newPeerConnection makes a call's PeerConnection through an API of its own, whose remote IP
// filter is the call's candidate budget (see remoteBudget): pion's SettingEngine is per API.
// An API holds no sockets or goroutines; the MediaEngine is copied by each PeerConnection.
func (s *Server) newPeerConnection() (*webrtc.PeerConnection, error) {
	se := s.se
	se.SetRemoteIPFilter(newRemoteBudget(2 * s.cfg.maxCandidates()).keep)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(s.media), webrtc.WithInterceptorRegistry(s.ir), webrtc.WithSettingEngine(se))
	return api.NewPeerConnection(s.pcCfg)
}

// ipFilter keeps only the listed addresses, or returns nil for no restriction.
func ipFilter(ips []netip.Addr) func(net.IP) bool {
	if len(ips) == 0 {
		return nil
	}
	return func(ip net.IP) bool {
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			return false
		}
		return slices.Contains(ips, a.Unmap())
	}
}

// openMux opens the one UDP port every leg shares: on the single listen address when there is
// one, else on every interface that keep allows.
func (s *Server) openMux(keep func(net.IP) bool) (ice.UDPMux, error) {
	if len(s.cfg.ListenIPs) == 1 {
		addr := &net.UDPAddr{IP: s.cfg.ListenIPs[0].AsSlice(), Port: s.cfg.UDPPort}
		var conn net.PacketConn
		var err error
		if s.net != nil {
			conn, err = s.net.ListenUDP("udp", addr)
		} else {
			conn, err = net.ListenUDP("udp", addr)
		}
		if err != nil {
			return nil, fmt.Errorf("webrtcleg: UDP port %d: %w", s.cfg.UDPPort, err)
		}
		return ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn, Net: s.net}), nil
	}
	opts := []ice.UDPMuxFromPortOption{ice.UDPMuxFromPortWithLoopback()}
	if keep != nil {
		opts = append(opts, ice.UDPMuxFromPortWithIPFilter(keep))
	}
	if s.net != nil {
		opts = append(opts, ice.UDPMuxFromPortWithNet(s.net))
	}
	mux, err := ice.NewMultiUDPMuxFromPort(s.cfg.UDPPort, opts...)
	if err != nil {
		return nil, fmt.Errorf("webrtcleg: UDP port %d: %w", s.cfg.UDPPort, err)
	}
	return mux, nil
}

// stunURI checks a STUN or TURN URI (RFC 7064, RFC 7065) the way pion will read it.
func stunURI(u string) (*stun.URI, error) { return stun.ParseURI(u) }

// UDPPort returns the shared UDP port of Config.UDPPort, or 0.
func (s *Server) UDPPort() int { return s.cfg.UDPPort }

// Close ends every call (each participant leaves with reason "shutdown") and waits until their
// peer connections are closed; the shared UDP port is closed last. New offers get ErrClosed.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	calls := slices.Collect(maps.Values(s.calls))
	s.mu.Unlock()
	for _, c := range calls {
		c.end("shutdown")
	}
	for _, c := range calls {
		<-c.Done()
	}
	if s.mux != nil {
		return s.mux.Close()
	}
	return nil
}

// Call returns the call with resource id, or ErrNoResource.
func (s *Server) Call(id string) (*Call, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calls[id]
	if !ok {
		return nil, ErrNoResource
	}
	return c, nil
}

// Calls returns how many calls are in progress.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

func (s *Server) add(c *Call) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.calls[c.id] = c
	return nil
}

func (s *Server) forget(c *Call) {
	s.mu.Lock()
	if s.calls[c.id] == c {
		delete(s.calls, c.id)
	}
	s.mu.Unlock()
}

// iceServerLinks returns the RFC 9725 section 4.6 Link header values for the configured STUN
// and TURN servers (RFC 8288 link syntax, with the credentials of RFC 9725's ice-server link).
func (s *Server) iceServerLinks() []string {
	var out []string
	for _, is := range s.cfg.ICEServers {
		for _, u := range is.URLs {
			v := "<" + u + `>; rel="ice-server"`
			if strings.HasPrefix(u, "turn") && is.Username != "" {
				v += `; username="` + quote(is.Username) + `"; credential="` + quote(is.Credential) + `"; credential-type="password"`
			}
			out = append(out, v)
		}
	}
	return out
}

func quote(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
