package config

import (
	"confd/internal/guard"

	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

// APITokenEnv is the environment variable that may hold the API token, so that it need not
// appear in ps (after -api-token and -api-token-file).
const APITokenEnv = "CONFD_API_TOKEN"

// HTTPSecurity is who may use the HTTP port and how much of it one client may hold
// ([http_security] in the file). Every zero value is the documented default.
type HTTPSecurity struct {
	// AllowedOrigins are origins ("https://app.example.com") besides confd's own whose pages
	// may send state-changing API requests; any other Origin gets 403. Default: none.
	AllowedOrigins []string `toml:"allowed_origins"`
	// MetricsToken, when set, is required as "Authorization: Bearer TOKEN" on /metrics.
	// Default: none (/metrics is open, and carries no room names).
	MetricsToken string `toml:"metrics_token"`
	// MetricsTokenFile holds MetricsToken on its first line (see "Secrets" in secrets.go).
	MetricsTokenFile string `toml:"metrics_token_file"`
	// MetricsRoomLabels puts room names into the per-room metrics' "room" label. Default off:
	// the label is an opaque number per room, since an open room's name is its only secret.
	MetricsRoomLabels bool `toml:"metrics_room_labels"`
	// ReadHeaderTimeout bounds reading a request's headers. Default 10s.
	ReadHeaderTimeout Duration `toml:"read_header_timeout"`
	// BodyTimeout bounds reading a request's body, from the end of its headers. Default 10s.
	BodyTimeout Duration `toml:"body_timeout"`
	// IdleTimeout closes a keep-alive connection idle this long. Default 2m.
	IdleTimeout Duration `toml:"idle_timeout"`
	// MaxHeaderBytes bounds a request's headers. Default 64 KiB.
	MaxHeaderBytes int `toml:"max_header_bytes"`
	// MaxBodyBytes bounds every request body (413 above it). Default 1 MiB.
	MaxBodyBytes int64 `toml:"max_body_bytes"`
	// MaxConnsPerSource is how many connections one address (an IPv6 /64) may hold open; more
	// are closed at once. Default 64 (a browser holds about 8).
	MaxConnsPerSource int `toml:"max_conns_per_source"`
	// ConnRate is how many new connections per second one address may open on average (twice
	// as many at once). Default 50.
	ConnRate float64 `toml:"conn_rate"`
	// ProxyProtocolFrom lists the HTTP proxies in front of confd (HAProxy with send-proxy-v2,
	// deploy/haproxy) as addresses or prefixes: each connection from them must begin with a
	// PROXY protocol header naming the client (one without is closed), who is then the
	// connection's source for every per-source limit (connections, WHIP sessions, SIP over
	// WebSocket, PIN guesses). Without it, every client behind a proxy is one source. Never list
	// a host that relays clients' bytes raw. Default: none.
	ProxyProtocolFrom []string `toml:"proxy_protocol_from"`
}

// validate checks the settings that have no safe reading when wrong.
func (h HTTPSecurity) validate() error {
	var errs []error
	for _, o := range h.AllowedOrigins {
		if _, ok := guard.Origin(o); !ok {
			errs = append(errs, fmt.Errorf("http_security.allowed_origins: %q is not an origin like https://host[:port]", o))
		}
	}
	for _, s := range h.ProxyProtocolFrom {
		switch p, err := guard.ParsePrefix(s); {
		case err != nil:
			errs = append(errs, fmt.Errorf("http_security.proxy_protocol_from: %w", err))
		case p.Bits() == 0:
			errs = append(errs, fmt.Errorf("http_security.proxy_protocol_from: %q would let every client name its own address: list the proxies", s))
		}
	}
	if h.ReadHeaderTimeout < 0 || h.BodyTimeout < 0 || h.IdleTimeout < 0 || h.MaxHeaderBytes < 0 ||
		h.MaxBodyBytes < 0 || h.MaxConnsPerSource < 0 || !isRate(h.ConnRate) {
		errs = append(errs, errors.New("http_security: timeouts and limits must not be negative"))
	}
	return errors.Join(errs...)
}

// ResolveAPIToken sets c.APIToken by docs/SPEC.md's precedence: -api-token (or api_token in the file),
// else the first line of -api-token-file, else $CONFD_API_TOKEN (read through getenv), else a
// random token (32 bytes from crypto/rand, base64url). It returns where the token came from:
// "flag", "file", "env" or "generated".
func (c *Config) ResolveAPIToken(getenv func(string) string) (string, error) {
	switch {
	case c.APIToken != "":
		return "flag", nil
	case c.APITokenFile != "":
		b, err := os.ReadFile(c.APITokenFile)
		if err != nil {
			return "", fmt.Errorf("-api-token-file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		if c.APIToken = strings.TrimSpace(line); c.APIToken == "" {
			return "", fmt.Errorf("-api-token-file %s: empty", c.APITokenFile)
		}
		return "file", nil
	case strings.TrimSpace(getenv(APITokenEnv)) != "":
		c.APIToken = strings.TrimSpace(getenv(APITokenEnv))
		return "env", nil
	}
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	c.APIToken = base64.RawURLEncoding.EncodeToString(b[:])
	return "generated", nil
}
