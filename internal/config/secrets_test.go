package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretsFromFilesAndEnvironment: every secret of the config file can come from a file or
// an environment variable, so that none has to sit in the file or on the command line (ps);
// the config file then holds only references.
func TestSecretsFromFilesAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv("HOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	t.Setenv("TURN_CRED", "turn-pass")
	file := write("confd.toml", `
[http_security]
metrics_token_file = "`+write("metrics", "m-token\n")+`"
[[webhook]]
url = "https://hooks.example.com/confd"
secret = "${HOOK_SECRET}"
[[webhook]]
url = "https://other.example.com/"
secret_file = "`+write("hook2", "second-secret\r\nignored\n")+`"
[security]
users = [{ user = "alice", password_file = "`+write("alice", "alice-pw")+`" }, { user = "bob", password = "pa$$word" }]
[[credential]]
realm = "trunk"
user = "confd"
password = "${TURN_CRED}"
[[register]]
registrar = "sip:sip.example.net"
user = "100"
password_file = "`+write("reg", "reg-pw\n")+`"
[[ice_server]]
urls = ["turn:turn.example.com"]
username = "u"
credential = "${TURN_CRED}"
`)
	cfg, err := Parse([]string{"-config", file}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{cfg.HTTPSecurity.MetricsToken, cfg.Webhooks[0].Secret, cfg.Webhooks[1].Secret,
		cfg.Security.Users[0].Password, cfg.Security.Users[1].Password, cfg.Credentials[0].Password,
		cfg.Register[0].Password, cfg.ICEServers[0].Credential}
	want := []string{"m-token", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "second-secret", "alice-pw", "pa$$word",
		"turn-pass", "reg-pw", "turn-pass"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("secrets %q, want %q", got, want)
	}
	// Resolving again (the daemon's tests build on a parsed Config) changes nothing.
	if err := cfg.ResolveSecrets(os.Getenv, os.ReadFile); err != nil || cfg.Security.Users[0].Password != "alice-pw" {
		t.Errorf("second resolve: %v", err)
	}

	for _, bad := range []struct{ toml, want string }{
		{"[[webhook]]\nurl = \"https://h.example.com/\"\nsecret = \"${CONFD_NOT_SET_ANYWHERE}\"\n", "CONFD_NOT_SET_ANYWHERE"},
		{"[[webhook]]\nurl = \"https://h.example.com/\"\nsecret = \"s\"\nsecret_file = \"" + write("s", "s") + "\"\n", "give one"},
		{"[http_security]\nmetrics_token_file = \"" + filepath.Join(dir, "missing") + "\"\n", "metrics_token_file"},
		{"[http_security]\nmetrics_token_file = \"" + write("empty", "\n") + "\"\n", "empty"},
	} {
		_, err := parseTOML(t, bad.toml)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want an error naming %s", bad.toml, err, bad.want)
		}
	}
}
