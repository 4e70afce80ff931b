package guard

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrLockedOut means too many wrong secrets came from this source (or for this room) lately;
	// the attempt is refused without being checked.
	ErrLockedOut = errors.New("guard: too many failed attempts")
	// ErrWrongSecret means Attempts.Check compared the secret and it was wrong; the failure is
	// counted.
	ErrWrongSecret = errors.New("guard: wrong secret")
	// ErrRateLimited means the source started more than its rate allows.
	ErrRateLimited = errors.New("guard: too many requests from this source")
	// ErrSourceBusy means the source already holds as many sessions as it may.
	ErrSourceBusy = errors.New("guard: too many sessions from this source")
	// ErrFull means the whole server holds as many sessions as it may.
	ErrFull = errors.New("guard: too many sessions")
	// ErrNotAllowed means the configuration does not allow what was asked (a dial-out
	// destination off the allow-list): answered 403, not retried.
	ErrNotAllowed = errors.New("guard: not allowed by the configuration")
)

// Refusal is the error every refusal of this package returns: it wraps one of the sentinels and
// says when to try again (SIP and HTTP Retry-After).
type Refusal struct {
	Err        error
	RetryAfter time.Duration
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("%v (retry after %s)", r.Err, r.RetryAfter.Round(time.Second))
}

func (r *Refusal) Unwrap() error { return r.Err }

// RetryAfterSeconds is the Retry-After value for err: whole seconds, at least 1, or 0 when err
// is not a Refusal.
func RetryAfterSeconds(err error) int {
	var r *Refusal
	if !errors.As(err, &r) {
		return 0
	}
	s := int((r.RetryAfter + time.Second - 1) / time.Second)
	return max(s, 1)
}
