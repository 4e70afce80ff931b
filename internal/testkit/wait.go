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

// Eventually is WaitFor that fails the test when cond does not hold within d.
func Eventually(t TB, d time.Duration, cond func() bool) {
	t.Helper()
	if !WaitFor(d, cond) {
		t.Fatalf("condition not reached within %v", d)
	}
}
