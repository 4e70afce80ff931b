package testkit

import (
	"path/filepath"
	"syscall"
)

// HostilePaths returns paths that a reader of a file named from outside (an API request, a
// config value) must refuse at once, neither blocking nor reading without end: devices that never
// end (/dev/zero, /dev/urandom), a FIFO nobody writes to (opening it blocks until a writer
// comes), a directory, and /proc/self/environ (stat says 0 bytes; it holds the process's
// environment). The FIFO and the directory are made in a temporary directory of the test's.
func HostilePaths(t TB) []string {
	t.Helper()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"/dev/zero", "/dev/urandom", fifo, dir, "/proc/self/environ"}
}
