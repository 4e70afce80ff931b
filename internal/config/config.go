// Package config reads confd's settings: the flags of docs/SPEC.md ("Start") and an optional TOML file
// (-config FILE) that can set every flag and also declares rooms, dial-in numbers, provider
// registrations, trunks and users, ICE servers and webhooks. Defaults < file < flags: a flag given
// on the command line wins over the file.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"confd/bridge"
	"confd/internal/guard"
	"confd/internal/webhook"
)

// Config is everything confd is told at start.
type Config struct {
	// ShowVersion (-version) prints the version, commit, Go and libopus versions and exits.
	ShowVersion bool `toml:"-"`
	// SIP is the address for SIP over UDP and TCP (-sip, default ":5060").
	SIP string `toml:"sip"`
	// HTTP is the address for the web client, WHIP/WHEP, SIP over WebSocket, the API and metrics
	// (-http, default ":8080").
	HTTP string `toml:"http"`
	// TLSCert and TLSKey, when both set, make HTTP serve HTTPS and wss:// (-tls-cert, -tls-key).
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
	// TLSSelfSigned makes a throwaway certificate for HTTPS (-tls-self-signed).
	TLSSelfSigned bool `toml:"tls_self_signed"`
	// RTP is the UDP port range for media (-rtp, default 20000-30000).
	RTP PortRange `toml:"rtp"`
	// PublicIP is the address written into SDP (-public-ip); empty means the address of the
	// interface that reaches the peer, else 127.0.0.1.
	PublicIP string `toml:"public_ip"`
	// APIToken is the bearer token for /api/* (-api-token). No peer is trusted without it:
	// ResolveAPIToken fills it from APITokenFile, $CONFD_API_TOKEN or a random token.
	APIToken string `toml:"api_token"`
	// APITokenFile holds the API token on its first line (-api-token-file), kept out of ps.
	APITokenFile string `toml:"api_token_file"`
	// HTTPSecurity bounds what one HTTP client may do: origins, metrics, timeouts, sizes, caps.
	HTTPSecurity HTTPSecurity `toml:"http_security"`
	// Drain is how long calls may go on after SIGTERM (-drain, default 0s).
	Drain Duration `toml:"drain"`
	// LogLevel is debug, info, warn or error (-log-level, default info).
	LogLevel string `toml:"log_level"`
	// LogFormat is text (logfmt-like key=value, the default) or json, one object per line
	// (-log-format).
	LogFormat string `toml:"log_format"`
	// DataDir is where confd keeps state across restarts: the rooms declared with PUT
	// /api/rooms/ROOM (rooms.json). Empty (the default) keeps them in memory only (-data-dir).
	DataDir string `toml:"data_dir"`

	// Rooms are declared rooms, which keep their settings while empty.
	Rooms []Room `toml:"room"`
	// DialIn are the dial-in numbers that lead to the IVR (meeting number, then PIN).
	DialIn []DialIn `toml:"dialin"`
	// Register are outbound registrations with SIP providers.
	Register []Register `toml:"register"`
	// Security says who may call in; the zero value is open to everyone (docs/SPEC.md: open by default).
	Security Security `toml:"security"`
	// Credentials answer digest challenges on dial-out: only a challenge whose realm is the
	// credential's and, when it names a host, from a request to that host.
	Credentials []Credential `toml:"credential"`
	// ICEServers are STUN/TURN servers for the WebRTC legs, also handed to clients.
	ICEServers []ICEServer `toml:"ice_server"`
	// ICELite makes confd an ICE-lite agent, for a confd on a public address.
	ICELite bool `toml:"ice_lite"`
	// WebRTCUDPPort, when set, puts every WebRTC leg on this one UDP port (UDP mux).
	WebRTCUDPPort int `toml:"webrtc_udp_port"`
	// Webhooks receive the events as signed JSON POSTs.
	Webhooks []Webhook `toml:"webhook"`
	// RecordingDir is where recordings are written (default "recordings").
	RecordingDir string `toml:"recording_dir"`
	// RecordingTracks also writes one time-aligned WAV track per participant beside each
	// recording of the mix (silence where it did not speak), for transcription.
	RecordingTracks bool `toml:"recording_tracks"`
	// Cluster lists the nodes that share rooms (cluster.go); empty means one node alone.
	Cluster Cluster `toml:"cluster"`
	// Forwarders is where the API may stream rooms as plain RTP ([forwarders]); off when
	// its allow list is empty.
	Forwarders Forwarders `toml:"forwarders"`
}

// Room is a declared room (docs/SPEC.md "Rooms").
type Room struct {
	Name string `toml:"name"`
	// PIN, when set, is asked for by DTMF (and is the WHIP bearer token).
	PIN string `toml:"pin"`
	// Locked rooms answer 403 to new callers.
	Locked bool `toml:"locked"`
	// Limit is the participant limit; 0 means none. A full room answers 486.
	Limit int `toml:"limit"`
	// TopK is how many talkers are mixed at once; 0 means 3.
	TopK int `toml:"top_k"`
	// Record starts a recording whenever the room has participants.
	Record bool `toml:"record"`
	// Chimes plays an entry tone when someone joins and an exit tone when someone leaves.
	Chimes bool `toml:"chimes"`
	// Moderated start and end, and hold music (docs/SPEC.md "Moderators and hold music"):
	// ModeratorPIN is a second PIN that makes whoever enters it a moderator; Moderators are the
	// From users of calls from security.trunks that join as moderators without a PIN;
	// WaitForModerator keeps the others unmixed, on hold music, until a moderator is in;
	// EndWithModerator ends the room, after a prompt, when the last moderator leaves;
	// HoldMusic is a WAV or Ogg/Opus file looped to a participant alone in the room;
	// AnnounceOnlyParticipant tells one who joins alone that it is, before the music.
	ModeratorPIN            string   `toml:"moderator_pin"`
	Moderators              []string `toml:"moderators"`
	WaitForModerator        bool     `toml:"wait_for_moderator"`
	EndWithModerator        bool     `toml:"end_with_moderator"`
	HoldMusic               string   `toml:"hold_music"`
	AnnounceOnlyParticipant bool     `toml:"announce_only_participant"`
	// AnnounceUserCount tells one who joins how many others are in; AnnounceJoinLeave asks a
	// caller through the IVR for its name and announces it to the room when it joins and leaves.
	AnnounceUserCount bool `toml:"announce_user_count"`
	AnnounceJoinLeave bool `toml:"announce_join_leave"`
	// Denoise suppresses every talker's background noise; AGC evens out talkers' levels towards
	// AGCLevel dBov (0 means -20). A participant's own choice (API) overrides them.
	Denoise  bool `toml:"denoise"`
	AGC      bool `toml:"agc"`
	AGCLevel int  `toml:"agc_level"`
}

// DialIn is a dial-in number: a request-URI user such as "+15550100" or "1000".
type DialIn struct {
	Number string `toml:"number"`
}

// Register is one outbound registration (RFC 3261 section 10).
type Register struct {
	// Registrar is the registrar's SIP URI, e.g. "sip:sip.example.net".
	Registrar string `toml:"registrar"`
	// User and Password are the account and its digest password; Domain defaults to the
	// registrar's host.
	User     string `toml:"user"`
	Password string `toml:"password"`
	// PasswordFile holds Password on its first line (see "Secrets" in secrets.go).
	PasswordFile string `toml:"password_file"`
	Domain       string `toml:"domain"`
	// Expiry is the registration lifetime asked for; 0 means 3600s.
	Expiry Duration `toml:"expiry"`
}

// Security restricts who may send INVITEs.
type Security struct {
	// Restrict, when true, accepts INVITEs only from Trunks or digest-authenticated Users.
	Restrict bool `toml:"restrict"`
	// Trunks are addresses or CIDR prefixes whose INVITEs are accepted without authentication.
	Trunks []string `toml:"trunks"`
	// Users are digest accounts (also for SIP over WebSocket REGISTER).
	Users []User `toml:"users"`
	// Realm is the digest realm; default "confd".
	Realm string `toml:"realm"`
	// SIP bounds what one source may cost the SIP listener ([security.sip], sipsecurity.go).
	SIP SIPLimits `toml:"sip"`
	// WebRTC limits the WHIP/WHEP (and WebRTC) sessions ([security.webrtc]).
	WebRTC WebRTCLimits `toml:"webrtc"`
	// DigestAlgorithms are the digest algorithms challenged with, in this order, and accepted:
	// "SHA-256" and "MD5". Empty means both, SHA-256 first (RFC 8760), except that user agents
	// known to give up on a SHA-256 challenge (baresip 1.0, SIP.js, JsSIP) get MD5 alone;
	// ["MD5"] serves other phones that do.
	DigestAlgorithms []string `toml:"digest_algorithms"`
	// DialOut limits where and how often confd dials out.
	DialOut DialOut `toml:"dialout"`
	// WebSocket bounds SIP over WebSocket ([security.websocket]).
	WebSocket WebSocket `toml:"websocket"`
}

// DialOut limits dial-out (POST /api/rooms/{room}/dial), against toll fraud with a leaked API
// token.
type DialOut struct {
	// Allow lists the destinations confd may dial, or transfer a call to (REFER), read by
	// guard.ParseDialAllow: numbers
	// (digits, * and #, with an optional leading +), each a prefix of the target's user part,
	// and hosts (a name or an IP address), each the target's whole host. Empty (the default)
	// allows every destination.
	Allow []string `toml:"allow"`
	// Rate is how many dial-outs may start per second on average, all rooms together. Zero
	// means 1.
	Rate float64 `toml:"rate"`
	// Burst is how many may start at once after a quiet spell. Zero means 10.
	Burst int `toml:"burst"`
}

// WebRTCLimits bound what WebRTC offers may cost confd; each zero value is the default named.
type WebRTCLimits struct {
	// SessionsPerSource caps the sessions one address holds, pending or connected (16; 429).
	SessionsPerSource int `toml:"sessions_per_source"`
	// SessionRate is the sessions one address may start per second, twice that at once (10; 429).
	SessionRate float64 `toml:"session_rate"`
	// MaxSessions caps the sessions of all sources together (1000; 503).
	MaxSessions int `toml:"max_sessions"`
	// ConnectTimeout closes a session whose ICE and DTLS are not up in time (15s).
	ConnectTimeout Duration `toml:"connect_timeout"`
	// MaxCandidates caps the remote ICE candidates taken from an offer (8).
	MaxCandidates int `toml:"max_candidates"`
}

// User is a digest account.
type User struct {
	User     string `toml:"user"`
	Password string `toml:"password"`
	// PasswordFile holds Password on its first line (see "Secrets" in secrets.go).
	PasswordFile string `toml:"password_file"`
}

// Credential answers a digest challenge on dial-out (RFC 3261 section 22.2) whose realm is
// Realm, exactly, from a request to Host, or, without a Host, to the host named like Realm (a
// realm is no secret: any callee can name it). A credential without a realm must name a host:
// it then answers any realm from that host, and no other host ever sees it.
type Credential struct {
	Realm    string `toml:"realm"`
	Host     string `toml:"host"`
	User     string `toml:"user"`
	Password string `toml:"password"`
	// PasswordFile holds Password on its first line (see "Secrets" in secrets.go).
	PasswordFile string `toml:"password_file"`
}

// ICEServer is a STUN or TURN server (RFC 7064, RFC 7065 URIs).
type ICEServer struct {
	URLs       []string `toml:"urls"`
	Username   string   `toml:"username"`
	Credential string   `toml:"credential"`
	// CredentialFile holds Credential on its first line (see "Secrets" in secrets.go).
	CredentialFile string `toml:"credential_file"`
}

// Webhook is an endpoint that receives events ([[webhook]]: url, secret, secret_file,
// events), the webhook package's, whose rule Validate applies (webhook.Endpoint.Check).
type Webhook = webhook.Endpoint

// Default returns the settings confd runs with when told nothing.
func Default() Config {
	return Config{
		SIP:          ":5060",
		HTTP:         ":8080",
		RTP:          PortRange{Low: 20000, High: 30000},
		LogLevel:     "info",
		LogFormat:    "text",
		RecordingDir: "recordings",
	}
}

// Parse reads the command line args (without the program name): first -config, whose file is
// loaded over the defaults, then every flag, which overrides the file. Usage and errors are
// written to stderr.
func Parse(args []string, stderr io.Writer) (Config, error) {
	// First pass: every flag is known, so -config is found wherever it stands; the values go
	// to a throwaway Config. Errors are reported by the real pass below.
	var path string
	pre := flag.NewFlagSet("confd", flag.ContinueOnError)
	pre.SetOutput(io.Discard)
	scratch := Default()
	defineFlags(pre, &scratch, &path)
	_ = pre.Parse(args)
	cfg := Default()
	if path != "" {
		md, err := toml.DecodeFile(path, &cfg)
		if err != nil {
			return Config{}, fmt.Errorf("config %s: %w", path, err)
		}
		if und := md.Undecoded(); len(und) > 0 {
			return Config{}, fmt.Errorf("config %s: unknown setting %q", path, und[0].String())
		}
	}

	fs := flag.NewFlagSet("confd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defineFlags(fs, &cfg, &path)
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := cfg.ResolveSecrets(os.Getenv, os.ReadFile); err != nil {
		return Config{}, err
	}
	return cfg, cfg.Validate()
}

// defineFlags defines docs/SPEC.md's flags on fs, writing into cfg (whose values are the defaults shown)
// and path.
func defineFlags(fs *flag.FlagSet, cfg *Config, path *string) {
	fs.StringVar(path, "config", *path, "TOML `file` with settings, rooms, dial-in numbers, registrations (flags override it)")
	fs.BoolVar(&cfg.ShowVersion, "version", false, "print the version, commit, Go and libopus versions and exit")
	fs.StringVar(&cfg.SIP, "sip", cfg.SIP, "SIP over UDP and TCP listen `address`")
	fs.StringVar(&cfg.HTTP, "http", cfg.HTTP, "HTTP listen `address`: web client, WHIP/WHEP, SIP over WebSocket, API, metrics")
	fs.StringVar(&cfg.TLSCert, "tls-cert", cfg.TLSCert, "certificate `file`: serve HTTPS and wss:// on -http")
	fs.StringVar(&cfg.TLSKey, "tls-key", cfg.TLSKey, "private key `file` for -tls-cert")
	fs.BoolVar(&cfg.TLSSelfSigned, "tls-self-signed", cfg.TLSSelfSigned, "serve HTTPS with a throwaway self-signed certificate")
	fs.Var(&cfg.RTP, "rtp", "UDP port `range` LOW-HIGH for media")
	fs.StringVar(&cfg.PublicIP, "public-ip", cfg.PublicIP, "`IP` address written into SDP (default: the interface that reaches the peer)")
	fs.StringVar(&cfg.APIToken, "api-token", cfg.APIToken, "bearer `token` for /api/* (else -api-token-file, else $"+APITokenEnv+", else a random one, printed at start)")
	fs.StringVar(&cfg.APITokenFile, "api-token-file", cfg.APITokenFile, "`file` whose first line is the API token (keeps it out of ps)")
	fs.Var(&cfg.Drain, "drain", "how long calls may go on after SIGTERM (`duration`)")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "log `level`: debug, info, warn, error")
	fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "log `format`: text or json")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "`directory` for state kept across restarts (rooms declared with PUT); empty keeps none")
}

var dialNumber = regexp.MustCompile(`^\+?[0-9A-Za-z*#_.-]{1,32}$`)

// Validate checks every setting and returns the first problem, naming the setting.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	for name, addr := range map[string]string{"sip": c.SIP, "http": c.HTTP} {
		if _, port, err := net.SplitHostPort(addr); err != nil {
			bad("-%s %q: %v", name, addr, err)
		} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			bad("-%s %q: bad port", name, addr)
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("-tls-cert and -tls-key go together")
	}
	if c.TLSCert != "" && c.TLSSelfSigned {
		bad("-tls-self-signed and -tls-cert exclude each other")
	}
	if c.RTP.Low < 1024 || c.RTP.High > 65535 || c.RTP.High-c.RTP.Low < 2 {
		bad("-rtp %s: want LOW-HIGH within 1024-65535 with room for at least one call", c.RTP)
	}
	if c.PublicIP != "" {
		if _, err := netip.ParseAddr(c.PublicIP); err != nil {
			bad("-public-ip %q: not an IP address", c.PublicIP)
		}
	}
	if err := c.HTTPSecurity.validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Drain < 0 {
		bad("-drain %s: negative", c.Drain)
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		bad("-log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	if f := strings.ToLower(c.LogFormat); f != "text" && f != "json" && f != "" {
		bad("-log-format %q: want text or json", c.LogFormat)
	}
	seen := map[string]bool{}
	for i, r := range c.Rooms {
		if !bridge.ValidRoomName(r.Name) {
			bad("room %d: name %q must match %s", i+1, r.Name, bridge.RoomNamePattern)
		}
		if seen[r.Name] {
			bad("room %q declared twice", r.Name)
		}
		seen[r.Name] = true
		if err := r.Settings().Validate(); err != nil {
			bad("room %q: %v", r.Name, err)
		}
	}
	for i, d := range c.DialIn {
		if !dialNumber.MatchString(d.Number) {
			bad("dialin %d: number %q is not a SIP user part of digits", i+1, d.Number)
		}
	}
	for i, r := range c.Register {
		if !strings.HasPrefix(r.Registrar, "sip:") && !strings.HasPrefix(r.Registrar, "sips:") {
			bad("register %d: registrar %q must be a sip: URI", i+1, r.Registrar)
		}
		if r.User == "" {
			bad("register %d: user is required", i+1)
		}
		if r.Expiry < 0 {
			bad("register %d: negative expiry", i+1)
		}
	}
	for _, t := range c.Security.Trunks {
		if _, err := guard.ParsePrefix(t); err != nil {
			bad("security.trunks: %v", err)
		}
	}
	if err := c.Security.SIP.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Cluster.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Forwarders.validate(); err != nil {
		errs = append(errs, err)
	}
	if w := c.Security.WebRTC; w.SessionsPerSource < 0 || !isRate(w.SessionRate) || w.MaxSessions < 0 || w.ConnectTimeout < 0 || w.MaxCandidates < 0 {
		bad("security.webrtc: sessions_per_source, session_rate, max_sessions, connect_timeout and max_candidates must not be negative")
	}
	for i, cr := range c.Credentials {
		if cr.Realm == "" && cr.Host == "" {
			bad("credential %d: set realm, host or both (a credential for any realm from any host would answer every challenge)", i+1)
		}
	}
	for _, alg := range c.Security.DigestAlgorithms {
		if a := strings.ToUpper(alg); a != "SHA-256" && a != "MD5" {
			bad("security.digest_algorithms: %q is neither SHA-256 nor MD5", alg)
		}
	}
	if d := c.Security.DialOut; !isRate(d.Rate) || d.Burst < 0 {
		bad("security.dialout: rate and burst must be ≥ 0")
	}
	if _, err := guard.ParseDialAllow(c.Security.DialOut.Allow); err != nil {
		bad("security.dialout.allow: %v", err)
	}
	if err := c.Security.WebSocket.validate(); err != nil {
		errs = append(errs, err)
	}
	for i, w := range c.Webhooks {
		if err := w.Check(); err != nil {
			bad("webhook %d: %v", i+1, err)
		}
	}
	return errors.Join(errs...)
}

// PortRange is an inclusive range of UDP ports, written "LOW-HIGH".
type PortRange struct{ Low, High int }

// String writes r as "LOW-HIGH".
func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.Low, r.High) }

// Set parses "LOW-HIGH", for flag.Value.
func (r *PortRange) Set(s string) error {
	lo, hi, ok := strings.Cut(s, "-")
	l, err1 := strconv.Atoi(strings.TrimSpace(lo))
	h, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if !ok || err1 != nil || err2 != nil || l > h {
		return fmt.Errorf("port range %q: want LOW-HIGH", s)
	}
	r.Low, r.High = l, h
	return nil
}

// UnmarshalText parses "LOW-HIGH" from the config file.
func (r *PortRange) UnmarshalText(b []byte) error { return r.Set(string(b)) }

// Duration is a time.Duration written as "30s" or "1m30s" in the file and on the command line.
type Duration time.Duration

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// Set parses a duration, for flag.Value.
func (d *Duration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// UnmarshalText parses a duration from the config file.
func (d *Duration) UnmarshalText(b []byte) error { return d.Set(string(b)) }

// TrunkPrefixes returns the trunks as prefixes (guard.ParsePrefix: an address is a prefix of
// its full length, an IPv4-mapped entry its IPv4 prefix); entries that do not parse are left
// out (Validate names them).
func (s Security) TrunkPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, t := range s.Trunks {
		if p, err := guard.ParsePrefix(t); err == nil {
			out = append(out, p)
		}
	}
	return out
}
