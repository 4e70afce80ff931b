package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWebSocketSettings(t *testing.T) {
	dir := t.TempDir()
	parse := func(file string) (Config, error) {
		p := filepath.Join(dir, "c.toml")
		if err := os.WriteFile(p, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		return Parse([]string{"-config", p}, io.Discard)
	}
	c, err := parse("[security.websocket]\nallowed_origins = [\"https://App.example.com:443\", \"*\"]\n" +
		"conns_per_source = 4\nmax_conns = 100\nidle_timeout = \"30s\"\nmessage_timeout = \"2s\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if w := c.Security.WebSocket; len(w.AllowedOrigins) != 2 || w.ConnsPerSource != 4 || w.MaxConns != 100 ||
		time.Duration(w.IdleTimeout) != 30*time.Second || time.Duration(w.MessageTimeout) != 2*time.Second {
		t.Errorf("parsed %+v", w)
	}
	for file, want := range map[string]string{
		"[security.websocket]\nallowed_origins = [\"app.example.com\"]\n":        "allowed_origins",
		"[security.websocket]\nallowed_origins = [\"https://a.example/path\"]\n": "allowed_origins",
		"[security.websocket]\nconns_per_source = -1\n":                          "conns_per_source",
		"[security.websocket]\nidle_timeout = \"-1s\"\n":                         "idle_timeout",
		"[security.websocket]\nidle_timout = \"1s\"\n":                           "unknown setting",
	} {
		if _, err := parse(file); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one naming %s", file, err, want)
		}
	}
	for in, want := range map[string]string{
		"https://App.Example.com:443": "https://app.example.com",
		"http://example.com:80/":      "http://example.com",
		"http://[::1]:8080":           "http://[::1]:8080",
	} {
		if got, ok := Origin(in); !ok || got != want {
			t.Errorf("Origin(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestSameHost(t *testing.T) {
	for _, tc := range []struct {
		origin, host string
		want         bool
	}{
		{"https://confd.example", "confd.example", true},
		{"https://confd.example", "Confd.Example:443", true},
		{"http://confd.example:8080", "confd.example:8080", true},
		{"https://attacker.example", "confd.example", false},
		{"https://confd.example.attacker.example", "confd.example", false},
		{"http://confd.example:8081", "confd.example:8080", false},
	} {
		if got := SameHost(tc.origin, tc.host); got != tc.want {
			t.Errorf("SameHost(%q, %q) = %v, want %v", tc.origin, tc.host, got, tc.want)
		}
	}
}
