package guard

import (
	"sync"
	"sync/atomic"
	"time"
)

// AttemptsConfig sets up Attempts. Every zero value is the documented default.
type AttemptsConfig struct {
	// Free is how many wrong secrets a source may send before it has to wait between tries.
	// Zero means 5.
	Free int
	// Delay is the wait after the first failure past Free; it doubles with each further failure
	// up to MaxDelay. Zero means 1 s.
	Delay time.Duration
	// MaxDelay caps the wait. Zero means 60 s.
	MaxDelay time.Duration
	// Lockout is the number of failures after which a source is refused outright for LockFor.
	// Zero means 20.
	Lockout int
	// LockFor is how long a locked-out source stays locked. Zero means 15 min.
	LockFor time.Duration
	// Forget is how long after its last failure a source's (or a room's) count starts again
	// from zero. Zero means 1 h.
	Forget time.Duration
	// RoomFree is how many failures a room takes, from all sources together, before every source
	// that has failed lately (and has not already given the room's secret) has to wait between
	// tries (the same doubling delays). It stops a guess spread over many addresses at one try
	// per address, without keeping a newcomer out. Zero means 50.
	RoomFree int
	// MaxEntries bounds each table (sources, rooms, known-good pairs). Zero means 65536.
	MaxEntries int
}

func (c AttemptsConfig) withDefaults() AttemptsConfig {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Free, 5)
	def(&c.Lockout, 20)
	def(&c.RoomFree, 50)
	def(&c.MaxEntries, 65536)
	defd(&c.Delay, time.Second)
	defd(&c.MaxDelay, 60*time.Second)
	defd(&c.LockFor, 15*time.Minute)
	defd(&c.Forget, time.Hour)
	return c
}

// Attempts throttles guessing of a secret (a room PIN) in every place one is checked: the IVR,
// WHIP, WHEP and SIP over WebSocket share one Attempts. Failures are counted per source and per
// room; past a free allowance each further try must wait a delay that doubles with every failure,
// and a source that keeps failing is locked out. A try refused by Allow is answered without the
// secret being looked at, so it tells the guesser nothing. Other sources and other rooms are not
// slowed by one source's failures; a room under a guess spread over many sources slows the
// sources that have failed lately and not already given its secret, never a newcomer. A caller
// behind a trunk (CallerKey) is counted apart from the trunk's other callers, but is no newcomer
// once they have failed lately: its name is its own to make up.
type Attempts struct {
	cfg AttemptsConfig

	wrong, right, refused atomic.Uint64

	mu      sync.Mutex
	sources *table[string, failures]
	rooms   *table[string, failures]
	// trunks counts the failures of the callers behind each trunk together (CallerKey): they
	// only decide whether such a caller is a newcomer, never slow or lock out the trunk itself.
	trunks *table[string, failures]
	good   *table[goodKey, struct{}]
}

type failures struct {
	count       int
	last        time.Time
	lockedUntil time.Time
}

type goodKey struct{ who, room string }

// NewAttempts returns an Attempts with cfg's limits.
func NewAttempts(cfg AttemptsConfig) *Attempts {
	cfg = cfg.withDefaults()
	return &Attempts{
		cfg:     cfg,
		sources: newTable[string, failures](cfg.MaxEntries, nil),
		rooms:   newTable[string, failures](cfg.MaxEntries, nil),
		trunks:  newTable[string, failures](cfg.MaxEntries, nil),
		good:    newTable[goodKey, struct{}](cfg.MaxEntries, nil),
	}
}

// Allow reports whether who (a source: SourceOf(remote).String(), with the caller's id added for
// a trunk that carries many callers) may try the secret of room now. A refusal is a *Refusal
// wrapping ErrLockedOut; the caller answers it (SIP 403, HTTP 429) with its Retry-After and does
// not check the secret.
func (a *Attempts) Allow(who, room string, now time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.allowLocked(who, room, now)
}

// Check is one try of room's secret by who at now, in one step: it refuses the try unchecked as
// Allow does, else compares given with secret in constant time and counts the verdict as Fail or
// Succeed would. It returns nil for the right secret, ErrWrongSecret for a wrong one, or a
// *Refusal. Unlike Allow followed by Fail, concurrent tries of one source cannot all pass the
// check before the first failure is counted: a burst of guesses gets exactly Free of them checked.
func (a *Attempts) Check(who, room, given, secret string, now time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.allowLocked(who, room, now); err != nil {
		return err
	}
	if !SecretMatches(given, secret) {
		a.failLocked(who, room, now)
		return ErrWrongSecret
	}
	a.right.Add(1)
	a.good.get(goodKey{who, room})
	return nil
}

func (a *Attempts) allowLocked(who, room string, now time.Time) error {
	src, failed := a.sources.peek(who)
	if failed {
		if wait := a.wait(src, a.cfg.Free, now); wait > 0 {
			a.refused.Add(1)
			return &Refusal{Err: ErrLockedOut, RetryAfter: wait}
		}
		failed = src.count > 0 && (now.Sub(src.last) < a.cfg.Forget || now.Before(src.lockedUntil))
	}
	if trunk, ok := trunkOf(who); ok && !failed {
		// A caller behind a trunk names itself (its From user): it is a newcomer only while
		// no caller behind that trunk has failed lately, or made-up callers would each get a
		// free try past the room's count.
		if f, seen := a.trunks.peek(trunk); seen {
			failed = f.count > 0 && now.Sub(f.last) < a.cfg.Forget
		}
	}
	if _, known := a.good.peek(goodKey{who, room}); known || !failed {
		// A source that has not failed lately is not slowed by the room's count: a guess spread
		// over many addresses gets one try per address before the room's delays apply to it,
		// and a newcomer with the right PIN is never kept out of a room under attack.
		return nil
	}
	if f, ok := a.rooms.peek(room); ok {
		if wait := a.wait(f, a.cfg.RoomFree, now); wait > 0 {
			a.refused.Add(1)
			return &Refusal{Err: ErrLockedOut, RetryAfter: wait}
		}
	}
	return nil
}

// wait is how long f must still wait at now, given its free allowance.
func (a *Attempts) wait(f *failures, free int, now time.Time) time.Duration {
	if now.Sub(f.last) >= a.cfg.Forget && !now.Before(f.lockedUntil) {
		return 0
	}
	if now.Before(f.lockedUntil) {
		return f.lockedUntil.Sub(now)
	}
	if f.count < free {
		return 0
	}
	d := a.cfg.Delay << min(f.count-free, 30)
	if d <= 0 || d > a.cfg.MaxDelay {
		d = a.cfg.MaxDelay
	}
	return max(f.last.Add(d).Sub(now), 0)
}

// Fail records a wrong secret from who for room at now.
func (a *Attempts) Fail(who, room string, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failLocked(who, room, now)
}

func (a *Attempts) failLocked(who, room string, now time.Time) {
	a.wrong.Add(1)
	s := a.sources.get(who)
	a.bump(s, now)
	if s.count >= a.cfg.Lockout {
		s.lockedUntil = now.Add(a.cfg.LockFor)
	}
	a.bump(a.rooms.get(room), now)
	if trunk, ok := trunkOf(who); ok {
		a.bump(a.trunks.get(trunk), now)
	}
}

func (a *Attempts) bump(f *failures, now time.Time) {
	if now.Sub(f.last) >= a.cfg.Forget && !now.Before(f.lockedUntil) {
		f.count = 0
	}
	f.count++
	f.last = now
}

// Succeed records that who gave room's secret: later tries of who for room are not slowed by
// failures counted against the room (a guess spread over many sources), only by its own.
func (a *Attempts) Succeed(who, room string, now time.Time) {
	a.right.Add(1)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.good.get(goodKey{who, room})
}

// AttemptsStats counts the tries an Attempts has seen (for metrics).
type AttemptsStats struct {
	// Wrong and Right count the secrets checked; Refused the tries refused unchecked.
	Wrong, Right, Refused uint64
}

// Stats returns the counters.
func (a *Attempts) Stats() AttemptsStats {
	return AttemptsStats{Wrong: a.wrong.Load(), Right: a.right.Load(), Refused: a.refused.Load()}
}
