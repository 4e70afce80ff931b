// Command confd is the conference bridge daemon: SIP over UDP, TCP and WebSocket, WHIP and WHEP,
// a web client, a JSON control API with event streams, and Prometheus metrics, all on the
// settings of docs/SPEC.md ("Start"). `go run ./cmd/confd` starts a working bridge on its defaults.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"confd/internal/buildinfo"
	"confd/internal/config"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run is main without the exit, for tests: it returns the process's exit code.
func run(args []string) int {
	cfg, err := config.Parse(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil && cfg.ShowVersion {
		fmt.Print(buildinfo.Get())
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "confd:", err)
		return 2
	}
	log := newLogger(cfg.LogLevel, cfg.LogFormat)
	slog.SetDefault(log)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := newDaemon(cfg, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	if err := d.start(); err != nil {
		log.Error("cannot start", "err", err)
		d.shutdown(context.Background())
		return 1
	}
	<-ctx.Done()
	stop() // a second signal now kills the process the default way
	drain := time.Duration(cfg.Drain)
	log.Info("signal received: draining", "drain", drain)
	d.drain(drain)
	sctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	d.shutdown(sctx)
	log.Info("stopped")
	return 0
}

// newLogger logs to stderr at level, as text (key=value) or, for log collectors, as one JSON
// object per line (-log-format json).
func newLogger(level, format string) *slog.Logger {
	var l slog.Level
	switch strings.ToLower(level) {
	case "debug":
		l = slog.LevelDebug
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: l}
	if strings.EqualFold(format, "json") {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
