package config

import (
	"strings"
	"testing"
	"time"
)

func TestWebSocketSettings(t *testing.T) {
	parse := func(file string) (Config, error) { return parseTOML(t, file) }
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
}
