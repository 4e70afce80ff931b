package testkit

import "time"

// pollEvery is how often WaitFor and Eventually look again: short beside the waits (seconds),
// long beside the cost of the conditions (a few lookups).
const pollEvery = 10 * time.Millisecond

// WaitFor polls cond until it holds or d has passed, and reports whether it held. Tests await
// a state this way where no event tells them it was reached.
func WaitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(pollEvery)
	}
	return cond()
}

// Eventually is WaitFor that fails the test with what when cond does not hold within d.
func Eventually(t TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !WaitFor(d, cond) {
		t.Fatalf("%s (within %v)", what, d)
	}
}

// Receive returns the first value from c that match accepts, dropping the others, and fails the
// test when none has come within d; what names the awaited value in that failure. Tests await a
// bridge.Subscription's events this way: the event itself says the state was reached.
func Receive[E any](t TB, c <-chan E, d time.Duration, what string, match func(E) bool) E {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case v, ok := <-c:
			if !ok {
				t.Fatalf("no %s: the channel was closed", what)
				return v
			}
			if match(v) {
				return v
			}
		case <-timeout:
			t.Fatalf("no %s within %v", what, d)
			var none E
			return none
		}
	}
}
