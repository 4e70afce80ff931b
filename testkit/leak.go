package testkit

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// leakWait is how long CheckGoroutines lets the goroutines of ended calls finish: their timers
// and readers end a moment after the call does.
const leakWait = 10 * time.Second

// CheckGoroutines fails the test unless the goroutine count comes back to base (taken with
// runtime.NumGoroutine before the test started its calls) within a few seconds, and prints
// every goroutine's stack when it does not: a leg that ends frees its goroutines.
func CheckGoroutines(t TB, base int) {
	t.Helper()
	if WaitFor(leakWait, func() bool { return runtime.NumGoroutine() <= base }) {
		return
	}
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	t.Errorf("goroutines: %d, want at most %d, as at the start\n%s", runtime.NumGoroutine(), base, buf[:n])
}

// OpenFDs counts this process's open file descriptors (/proc/self/fd), for the checks that a
// leg that ends closes its sockets. It skips the test where /proc is missing.
func OpenFDs(t TB) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(fmt.Sprintf("no /proc/self/fd: %v", err))
	}
	return len(fds)
}

// OpenSockets counts this process's open sockets (the descriptors of /proc/self/fd that link
// to socket:[…]), a narrower OpenFDs that files a test opens do not disturb. It skips the test
// where /proc is missing.
func OpenSockets(t TB) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(fmt.Sprintf("no /proc/self/fd: %v", err))
	}
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n
}
