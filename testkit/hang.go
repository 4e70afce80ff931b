package testkit

import "time"

// ReturnsWithin runs f on a goroutine of its own and fails the test when f has not returned
// within d; what names the call in that failure. Tests of what must not hang (a reader handed a
// FIFO, workers that must not deadlock) bound the wait this way rather than hang until go test's
// own timeout. A call that never returns stays behind on its goroutine: the test has failed.
func ReturnsWithin(t TB, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: still running after %v", what, d)
	}
}
