package config

import (
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// parseTOML parses a config file of this text, with the flags after -config.
func parseTOML(t *testing.T, toml string, flags ...string) (Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "confd.toml")
	if err := os.WriteFile(path, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	return Parse(append([]string{"-config", path}, flags...), io.Discard)
}

func TestDefaultsNeedNothing(t *testing.T) {
	c, err := Parse(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.SIP != ":5060" || c.HTTP != ":8080" || c.RTP != (PortRange{20000, 30000}) || c.Drain != 0 {
		t.Errorf("defaults %+v", c)
	}
}

func TestFileThenFlagsOverride(t *testing.T) {
	path := filepath.Join(t.TempDir(), "confd.toml")
	os.WriteFile(path, []byte(`
sip = "127.0.0.1:5070"
rtp = "40000-40100"
drain = "30s"

[[room]]
name = "standup"
pin = "1234"
top_k = 4

[[dialin]]
number = "+15550100"

[[register]]
registrar = "sip:sip.example.net"
user = "confd"
password = "secret"
expiry = "600s"
`), 0o600)
	c, err := Parse([]string{"-http", "127.0.0.1:8081", "-config", path, "-sip", "127.0.0.1:5080"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.SIP != "127.0.0.1:5080" || c.HTTP != "127.0.0.1:8081" {
		t.Errorf("flag did not override the file: sip %q", c.SIP)
	}
	if c.RTP.Low != 40000 || time.Duration(c.Drain) != 30*time.Second {
		t.Errorf("file settings lost: %+v", c)
	}
	if len(c.Rooms) != 1 || c.Rooms[0].PIN != "1234" || c.DialIn[0].Number != "+15550100" || time.Duration(c.Register[0].Expiry) != 10*time.Minute {
		t.Errorf("declarations %+v %+v %+v", c.Rooms, c.DialIn, c.Register)
	}
}

func TestBadConfigIsRefusedWithTheSettingNamed(t *testing.T) {
	cases := map[string]struct {
		file string
		args []string
		want string
	}{
		"typo in file":          {file: "sipp = \":5060\"\n", want: "unknown setting \"sipp\""},
		"bad room name":         {file: "[[room]]\nname = \"a b\"\n", want: "room 1: name"},
		"pin not digits":        {file: "[[room]]\nname = \"r\"\npin = \"12a\"\n", want: "pin must be"},
		"rtp backwards":         {args: []string{"-rtp", "300-200"}, want: "port range"},
		"bad public ip":         {args: []string{"-public-ip", "example"}, want: "-public-ip"},
		"half tls":              {args: []string{"-tls-cert", "c.pem"}, want: "go together"},
		"bad drain":             {args: []string{"-drain", "soon"}, want: "drain"},
		"not toml":              {file: "[[[", want: "config"},
		"stray argument":        {args: []string{"extra"}, want: "unexpected argument"},
		"negative webrtc cap":   {file: "[security.webrtc]\nsessions_per_source = -1\n", want: "security.webrtc"},
		"credential for anyone": {file: "[[credential]]\nuser = \"u\"\npassword = \"p\"\n", want: "credential 1: set realm, host"},
		"digest algorithm":      {file: "[security]\ndigest_algorithms = [\"SHA-512\"]\n", want: "security.digest_algorithms"},
		"dial-out allow":        {file: "[security.dialout]\nallow = [\"sip:x@y\"]\n", want: "security.dialout.allow"},
		"dial-out rate":         {file: "[security.dialout]\nrate = -1.0\n", want: "security.dialout"},
		"negative sip limit":    {file: "[security.sip]\nhold_timeout = \"-1s\"\n", want: "security.sip.hold_timeout"},
		// TOML's nan and inf: a NaN rate compared false with everything and limited nothing.
		"sip rate not a number": {file: "[security.sip]\ntrunk_request_rate = nan\n", want: "security.sip.trunk_request_rate"},
		"infinite conn rate":    {file: "[http_security]\nconn_rate = inf\n", want: "http_security"},
		"webrtc rate nan":       {file: "[security.webrtc]\nsession_rate = nan\n", want: "security.webrtc"},
		"dial-out rate nan":     {file: "[security.dialout]\nrate = nan\n", want: "security.dialout"},
		"proxy from everyone":   {file: "[http_security]\nproxy_protocol_from = [\"::/0\"]\n", want: "http_security.proxy_protocol_from"},
		"cluster self unknown":  {file: "[cluster]\nself = \"x\"\n[[cluster.node]]\nname = \"a\"\nsip = \"10.0.0.1:5060\"\nhttp = \"10.0.0.1:8080\"\n", want: "cluster: self \"x\""},
		"cluster node by name":  {file: "[cluster]\nself = \"a\"\n[[cluster.node]]\nname = \"a\"\nsip = \"node-a:5060\"\nhttp = \"10.0.0.1:8080\"\n", want: "cluster.node \"a\": sip"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(tc.args, io.Discard)
			if tc.file != "" {
				_, err = parseTOML(t, tc.file, tc.args...)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestExampleFileParses(t *testing.T) {
	c, err := Parse([]string{"-config", "../../confd.example.toml"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rooms) != 2 || len(c.DialIn) != 2 || time.Duration(c.Drain) != 30*time.Second ||
		c.Security.WebRTC.SessionsPerSource != 16 || time.Duration(c.Security.WebRTC.ConnectTimeout) != 15*time.Second {
		t.Errorf("example parsed as %+v", c)
	}
}

func TestHTTPSecuritySettings(t *testing.T) {
	dir := t.TempDir()
	c, err := parseTOML(t, `
api_token_file = "/run/secrets/confd"
[http_security]
allowed_origins = ["https://Console.Example:443", "http://127.0.0.1:3000"]
metrics_token = "m"
metrics_room_labels = true
body_timeout = "3s"
max_conns_per_source = 8
`, "-api-token-file", "/etc/confd/token")
	if err != nil {
		t.Fatal(err)
	}
	h := c.HTTPSecurity
	if c.APITokenFile != "/etc/confd/token" || h.MetricsToken != "m" || !h.MetricsRoomLabels || h.BodyTimeout != Duration(3*time.Second) ||
		h.MaxConnsPerSource != 8 || h.ReadHeaderTimeout != 0 || h.ConnRate != 0 || len(h.AllowedOrigins) != 2 {
		t.Errorf("settings %+v, %+v", c, h)
	}
	for _, bad := range []string{`allowed_origins = ["https://x.example/path"]`, `allowed_origins = ["null"]`, `allowed_origins = ["ftp://x"]`, `body_timeout = "-1s"`} {
		if _, err := parseTOML(t, "[http_security]\n"+bad+"\n"); err == nil || !strings.Contains(err.Error(), "http_security") {
			t.Errorf("%s: %v, want an http_security error", bad, err)
		}
	}

	// The API token: flag, then file, then environment, then random.
	file := filepath.Join(dir, "token")
	os.WriteFile(file, []byte("  from-file \nsecond line\n"), 0o600)
	env := func(v string) func(string) string { return func(string) string { return v } }
	for _, tc := range []struct{ flag, file, env, want, from string }{
		{"from-flag", file, "from-env", "from-flag", "flag"},
		{"", file, "from-env", "from-file", "file"},
		{"", "", "from-env", "from-env", "env"},
	} {
		c := Default()
		c.APIToken, c.APITokenFile = tc.flag, tc.file
		if from, err := c.ResolveAPIToken(env(tc.env)); err != nil || from != tc.from || c.APIToken != tc.want {
			t.Errorf("%+v: %q from %q (%v)", tc, c.APIToken, from, err)
		}
	}
	a, b := Default(), Default()
	fa, _ := a.ResolveAPIToken(env(""))
	b.ResolveAPIToken(env(""))
	if fa != "generated" || len(a.APIToken) != 43 || a.APIToken == b.APIToken {
		t.Errorf("generated tokens %q and %q (%s)", a.APIToken, b.APIToken, fa)
	}
	c = Default()
	c.APITokenFile = filepath.Join(dir, "missing")
	if _, err := c.ResolveAPIToken(env("")); err == nil {
		t.Error("a missing token file is not an error")
	}
}

// TestDialOutAllowIsReadByTheDialRule: the file's allow-list is read by the rule the SIP leg
// dials by (guard.ParseDialAllow): an IPv6 host may be allowed, and a number with a dash is
// refused at start, not taken for a host.
func TestDialOutAllowIsReadByTheDialRule(t *testing.T) {
	c := Default()
	c.Security.DialOut.Allow = []string{"+4420", "sip.provider.example", "2001:db8::1", "[2001:db8::2]", "192.0.2.7"}
	if err := c.Validate(); err != nil {
		t.Errorf("good allow-list refused: %v", err)
	}
	for _, bad := range []string{"1-800", "host.example:5060", "bob@host.example"} {
		c.Security.DialOut.Allow = []string{bad}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "security.dialout.allow") || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v, want security.dialout.allow naming it", bad, err)
		}
	}
}

// TestTrunksReadLikeDestinations: security.trunks is read by guard.ParsePrefix, as
// forwarders.allow is: an IPv4-mapped prefix means its IPv4 prefix (it validated, then never
// matched a caller, since sources are compared unmapped), a zone is refused.
func TestTrunksReadLikeDestinations(t *testing.T) {
	s := Security{Trunks: []string{"::ffff:10.0.0.0/104", "192.0.2.9", "198.51.100.0/24"}}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.9/32"), netip.MustParsePrefix("198.51.100.0/24")}
	if got := s.TrunkPrefixes(); !slices.Equal(got, want) {
		t.Errorf("TrunkPrefixes = %v, want %v", got, want)
	}
	for _, bad := range []string{"fe80::1%eth0", "::ffff:10.0.0.0/64", "pbx.example"} {
		c := Default()
		c.Security.Trunks = []string{bad}
		if err := c.Validate(); err == nil {
			t.Errorf("security.trunks %q validated", bad)
		}
	}
}

// TestWebhookIsCheckedByTheSendersRule: a [[webhook]] is checked at start by the rule its sender
// uses (webhook.New), so what the file accepts is what is delivered to, and a bad URL, event
// filter or secret stops confd at start naming the webhook.
func TestWebhookIsCheckedByTheSendersRule(t *testing.T) {
	good := []Webhook{
		{URL: "https://hooks.example.net/confd"},
		{URL: "HTTP://hooks.example.net:8080/x", Events: []string{"join", "leave"}}, // a scheme is case-insensitive (RFC 3986 3.1)
		{URL: "http://[2001:db8::1]/hook", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
	}
	for _, w := range good {
		c := Default()
		c.Webhooks = []Webhook{w}
		if err := c.Validate(); err != nil {
			t.Errorf("%+v refused: %v", w, err)
		}
	}
	for name, w := range map[string]Webhook{
		"no host":       {URL: "http://"},
		"relative":      {URL: "/hook"},
		"other scheme":  {URL: "ftp://hooks.example.net/"},
		"unknown event": {URL: "https://hooks.example.net/", Events: []string{"joined"}},
		"bad secret":    {URL: "https://hooks.example.net/", Secret: "whsec_!!!"},
	} {
		c := Default()
		c.Webhooks = []Webhook{{URL: "https://ok.example.net/"}, w}
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), "webhook 2") {
			t.Errorf("%s: %v, want an error naming webhook 2", name, err)
		}
	}
}
