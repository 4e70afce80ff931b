package webrtcleg

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/pion/transport/v5"

	"confd/internal/guard"
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
	// MinPort and MaxPort bound the UDP ports of the legs' ICE sockets (the daemon's -rtp
	// range). Zero lets the OS choose. Ignored when UDPPort is set.
	MinPort, MaxPort uint16
	// UDPPort, when set, puts every WebRTC leg on this one UDP port (pion's ICE UDP mux, which
	// tells legs apart by their ICE username fragment, RFC 8445 section 7.2.2).
	UDPPort int
	// ICEServers are STUN and TURN servers (RFC 7064, RFC 7065): confd gathers server-reflexive
	// and relayed candidates from them, and hands them to WHIP/WHEP clients as Link headers
	// (RFC 9725 section 4.6).
	ICEServers []ICEServer
	// ICELite makes confd an ICE-lite agent (RFC 8445 section 2.5): it only answers
	// connectivity checks, which suits a confd on a public address.
	ICELite bool
	// DisconnectedTimeout, FailedTimeout and KeepAlive are the ICE consent timers: a peer
	// silent for DisconnectedTimeout is disconnected, for FailedTimeout failed and its leg is
	// removed (RFC 7675 consent freshness). Zero means pion's 5 s, 25 s and 2 s.
	DisconnectedTimeout, FailedTimeout, KeepAlive time.Duration
	// ConnectTimeout is how long a leg may take from its answer to a connected DTLS-SRTP
	// session before it is closed with everything it holds (a client that never starts ICE).
	// The participant joins its room only once DTLS is up. Zero means 15 s.
	ConnectTimeout time.Duration
	// GatherTimeout bounds how long an answer waits for its candidates (no trickle: the answer
	// carries them all). Zero means 10 s.
	GatherTimeout time.Duration

	// SessionsPerSource caps the calls (waiting for ICE and DTLS, or connected) that one
	// source address may hold at once, IPv6 by its /64 (guard.Source); a POST beyond it is
	// answered 429 with Retry-After before anything is allocated. Zero means 16.
	SessionsPerSource int
	// SessionRate is how many calls one source may start per second on average (a burst of
	// twice as many after a quiet spell); a POST beyond it is answered 429. Zero means 10.
	SessionRate float64
	// MaxSessions caps the calls of every source together; a POST beyond it is answered 503
	// with Retry-After. Zero means 1000.
	MaxSessions int
	// MaxCandidates caps the remote ICE candidates confd takes from an offer, and the
	// peer-reflexive ones it learns later (as many again), so that an offer cannot aim confd's
	// connectivity checks at many addresses (RFC 8445 section 6.1.4). Zero means 8.
	MaxCandidates int
	// Attempts throttles guessing of room PINs (the bearer token): failures per source and per
	// room, growing delays, then a lock-out answered 429. One Attempts is shared by every leg
	// that checks a PIN; nil means the server makes its own with guard's defaults.
	Attempts *guard.Attempts
	// RoomToken, when set, returns the read-only capability for room that each WHIP and WHEP
	// 201 carries as X-Confd-Room-Token (the page's roster and events without the API token).
	// Nil, or an empty token, means no header.
	RoomToken func(room string) string
}

func (c Config) connectTimeout() time.Duration { return orDefault(c.ConnectTimeout, 15*time.Second) }

func (c Config) gatherTimeout() time.Duration { return orDefault(c.GatherTimeout, 10*time.Second) }

func (c Config) admission() guard.AdmissionConfig {
	return guard.AdmissionConfig{PerSource: orDefault(c.SessionsPerSource, 16), Total: orDefault(c.MaxSessions, 1000),
		Rate: orDefault(c.SessionRate, 10)}
}

func (c Config) maxCandidates() int { return orDefault(c.MaxCandidates, 8) }

// ICEServer is a STUN or TURN server (RFC 7064, RFC 7065) with its long-term credentials.
type ICEServer struct {
	URLs                 []string
	Username, Credential string
}

// orDefault is v, or def when v is not positive (a zero setting means its default).
func orDefault[T int | float64 | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Option changes how a Server reports or which network it uses, not what it does.
type Option func(*Server)

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithNet makes every leg use n instead of the host's network: tests pass a pion vnet.Net to
// put loss and delay between confd and a client.
func WithNet(n transport.Net) Option { return func(s *Server) { s.net = n } }
