package testkit

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestHostilePathsAreWhatTheySay: the paths exist and are the kinds of file their doc names: two
// devices, a FIFO, a directory and a file of /proc.
func TestHostilePathsAreWhatTheySay(t *testing.T) {
	paths := HostilePaths(t)
	want := []os.FileMode{os.ModeDevice | os.ModeCharDevice, os.ModeDevice | os.ModeCharDevice, os.ModeNamedPipe, os.ModeDir, 0}
	if len(paths) != len(want) {
		t.Fatalf("%d paths %q, want %d", len(paths), paths, len(want))
	}
	for i, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Type(); got != want[i] {
			t.Errorf("%s is a %v, want a %v", p, got, want[i])
		}
	}
}

// TestReturnsWithin: a call that returns passes; one that hangs fails the test after the wait,
// naming the call.
func TestReturnsWithin(t *testing.T) {
	r := &recorder{TB: t}
	ran := false
	ReturnsWithin(r, time.Second, "a quick call", func() { ran = true })
	if !ran || r.fatal != "" {
		t.Errorf("a call that returned: ran %v, failure %q", ran, r.fatal)
	}
	hang := make(chan struct{})
	defer close(hang)
	ReturnsWithin(r, 20*time.Millisecond, "a hanging call", func() { <-hang })
	if !strings.Contains(r.fatal, "a hanging call: still running") {
		t.Errorf("a call that hung: %q, want a failure naming it", r.fatal)
	}
}
