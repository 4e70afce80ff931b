package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"confd/bridge"
	"confd/internal/api"
	"confd/internal/config"
)

// daemon holds confd's parts and their order of start and stop.
type daemon struct {
	cfg    config.Config
	log    *slog.Logger
	bridge *bridge.Bridge
	http   *http.Server
	httpLn net.Listener
}

func newDaemon(cfg config.Config, log *slog.Logger) (*daemon, error) {
	rooms := map[string]bridge.RoomSettings{}
	for _, r := range cfg.Rooms {
		rooms[r.Name] = bridge.RoomSettings{PIN: r.PIN, Locked: r.Locked, Limit: r.Limit, TopK: r.TopK, Record: r.Record}
	}
	d := &daemon{cfg: cfg, log: log}
	d.bridge = bridge.New(bridge.Config{Rooms: rooms}, bridge.WithLogger(log))
	mux := http.NewServeMux()
	a := api.New(d.bridge, api.Config{Token: cfg.APIToken, Ready: func() bool { return !d.bridge.Draining() }}, log)
	mux.Handle("/api/", a)
	mux.Handle("/healthz", a)
	mux.Handle("/readyz", a)
	d.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return d, nil
}

func (d *daemon) start() error {
	ln, err := net.Listen("tcp", d.cfg.HTTP)
	if err != nil {
		return fmt.Errorf("http %s: %w", d.cfg.HTTP, err)
	}
	d.httpLn = ln
	go func() {
		if err := d.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("http server", "err", err)
		}
	}()
	d.log.Info("confd started", "http", ln.Addr().String(), "sip", d.cfg.SIP, "rtp", d.cfg.RTP.String())
	return nil
}

// drain refuses new calls and lets calls in progress go on for up to wait, returning early once
// every room is empty.
func (d *daemon) drain(wait time.Duration) {
	d.bridge.Drain()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) && len(d.bridge.Participants()) > 0 {
		time.Sleep(100 * time.Millisecond)
	}
}

// shutdown hangs up every leg, waits for them to go, and stops the servers.
func (d *daemon) shutdown(ctx context.Context) {
	d.bridge.HangupAll("shutdown")
	for ctx.Err() == nil && len(d.bridge.Participants()) > 0 {
		time.Sleep(50 * time.Millisecond)
	}
	d.bridge.Close()
	hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_ = d.http.Shutdown(hctx)
}
