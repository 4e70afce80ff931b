package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"confd/internal/config"
)

// TestBadHoldMusicStopsTheStart: a room whose hold music cannot be decoded stops confd at
// start, naming the file, rather than leaving the room silent.
func TestBadHoldMusicStopsTheStart(t *testing.T) {
	cfg := config.Default()
	cfg.Rooms = []config.Room{{Name: "lobby", HoldMusic: "/no/such/hold.ogg"}}
	_, err := newDaemon(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "hold.ogg") {
		t.Fatalf("newDaemon: %v, want the hold-music file refused", err)
	}
}
