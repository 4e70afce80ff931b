package webrtcleg

import (
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/pion/transport/v5"

	"confd/internal/config"
)

// Config sets up a Server. The zero value is complete: host candidates on every interface
// (loopback included), OS-chosen UDP ports, no STUN or TURN, full ICE, and pion's ICE timeouts.
type Config struct {
	// PublicIP, when valid, replaces the address of every host candidate (the NAT 1:1 address
	// of -public-ip, RFC 8445 section 5.1.1.1), so that a confd behind a static NAT is reachable.
	PublicIP netip.Addr
	// ListenIPs, when set, restricts host candidates to these local addresses (tests use
	// 127.0.0.1 only). Empty means every interface.
	ListenIPs []netip.Addr
	// RTP is the UDP port range of -rtp for the legs' ICE sockets. The zero value lets the OS
	// choose. Ignored when UDPPort is set.
	RTP config.PortRange
	// UDPPort, when set, puts every WebRTC leg on this one UDP port (pion's ICE UDP mux, which
	// tells legs apart by their ICE username fragment, RFC 8445 section 7.2.2).
	UDPPort int
	// ICEServers are STUN and TURN servers (RFC 7064, RFC 7065): confd gathers server-reflexive
	// and relayed candidates from them, and hands them to WHIP/WHEP clients as Link headers
	// (RFC 9725 section 4.6).
	ICEServers []config.ICEServer
	// ICELite makes confd an ICE-lite agent (RFC 8445 section 2.5): it only answers
	// connectivity checks, which suits a confd on a public address.
	ICELite bool
	// DisconnectedTimeout, FailedTimeout and KeepAlive are the ICE consent timers: a peer
	// silent for DisconnectedTimeout is disconnected, for FailedTimeout failed and its leg is
	// removed (RFC 7675 consent freshness). Zero means pion's 5 s, 25 s and 2 s.
	DisconnectedTimeout, FailedTimeout, KeepAlive time.Duration
	// ConnectTimeout is how long a leg may take from its answer to a connected DTLS-SRTP
	// session before it is removed (a client that never starts ICE). Zero means 30 s.
	ConnectTimeout time.Duration
	// GatherTimeout bounds how long an answer waits for its candidates (no trickle: the answer
	// carries them all). Zero means 10 s.
	GatherTimeout time.Duration
	// RoomToken, when set, mints the read-only room capability that the answer to a page
	// participant carries in X-Confd-Room-Token (issue 8 item 6); nil means no header.
	RoomToken func(room string) string
}

func (c Config) connectTimeout() time.Duration {
	if c.ConnectTimeout > 0 {
		return c.ConnectTimeout
	}
	return 30 * time.Second
}

func (c Config) gatherTimeout() time.Duration {
	if c.GatherTimeout > 0 {
		return c.GatherTimeout
	}
	return 10 * time.Second
}

// Option changes how a Server reports or which network it uses, not what it does.
type Option func(*Server)

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithNet makes every leg use n instead of the host's network: tests pass a pion vnet.Net to
// put loss and delay between confd and a client.
func WithNet(n transport.Net) Option { return func(s *Server) { s.net = n } }

// FromConfig takes the WebRTC settings of confd's configuration: -public-ip, -rtp, the ICE
// servers, ICE-lite and the shared UDP port. The daemon mounts Handler at /whip/ and /whep/
// (not under a stripped prefix: the Location headers are absolute paths).
func FromConfig(c config.Config) (Config, error) {
	cfg := Config{RTP: c.RTP, ICEServers: c.ICEServers, ICELite: c.ICELite, UDPPort: c.WebRTCUDPPort}
	if c.PublicIP != "" {
		ip, err := netip.ParseAddr(c.PublicIP)
		if err != nil {
			return Config{}, fmt.Errorf("webrtcleg: -public-ip %q: %w", c.PublicIP, err)
		}
		cfg.PublicIP = ip
	}
	return cfg, nil
}
