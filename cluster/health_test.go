package cluster

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"confd/testkit"
)

// TestWatchCatchesUpWhenANodeComesBack: a node catches up at its start, not again while the
// others stay up, and again when a node it saw down is back (which may hold changes made while
// the two could not talk), trying each round until the catch-up succeeds; a node seen going
// down is handed to gone (its seats are freed); and when another node tells it to (Nudge).
func TestWatchCatchesUpWhenANodeComesBack(t *testing.T) {
	var ready atomic.Bool
	ready.Store(true)
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer peer.Close()
	nodes := nodesWithPeers(peer)
	var (
		mu      sync.Mutex
		catchUp int
		failing bool
		gone    []string
	)
	rejoin := func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		catchUp++
		if failing {
			return ErrNoPeer
		}
		return nil
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return catchUp }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		nodes.Watch(ctx, 10*time.Millisecond, func() bool { return true }, rejoin,
			func(n string) { mu.Lock(); gone = append(gone, n); mu.Unlock() }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	defer func() { cancel(); <-done }()

	testkit.Eventually(t, 5*time.Second, "no catch-up at the start", func() bool { return count() == 1 })
	ready.Store(false)
	testkit.Eventually(t, 5*time.Second, "b never seen down", func() bool { return !nodes.Up("b") })
	if n := count(); n != 1 {
		t.Errorf("%d catch-ups while b stayed up and then went down, want the start's only", n)
	}
	mu.Lock()
	if len(gone) != 1 || gone[0] != "b" {
		t.Errorf("gone was told %q, want b", gone)
	}
	failing = true
	mu.Unlock()
	ready.Store(true)
	testkit.Eventually(t, 5*time.Second, "no catch-up tried when b came back", func() bool { return count() >= 2 })
	testkit.Eventually(t, 5*time.Second, "a failed catch-up not tried again", func() bool { return count() >= 3 })
	mu.Lock()
	failing = false
	mu.Unlock()
	testkit.Eventually(t, 5*time.Second, "the catch-up never succeeded", func() bool { n := count(); time.Sleep(50 * time.Millisecond); return count() == n })
	n := count()
	nodes.Nudge()
	testkit.Eventually(t, 5*time.Second, "no catch-up when told to", func() bool { return count() == n+1 })
}
