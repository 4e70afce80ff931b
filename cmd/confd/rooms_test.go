package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"confd/internal/api"
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

// TestBadRoomInTheStateFileStopsTheStart: a room of the -data-dir state file whose settings the
// bridge refuses (bridge.RoomSettings.Validate, as for the config file) stops confd at start,
// naming the room and the rule, rather than starting it with another room than declared.
func TestBadRoomInTheStateFileStopsTheStart(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	if err := os.WriteFile(filepath.Join(cfg.DataDir, api.RoomStoreFile), []byte(`{"rooms":{"lobby":{"agc_level":7}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := newDaemon(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), `room "lobby"`) || !strings.Contains(err.Error(), "agc_level") {
		t.Fatalf("newDaemon: %v, want the state file's room refused", err)
	}
}
