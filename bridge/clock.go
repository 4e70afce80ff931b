package bridge

import (
	"context"
	"sync/atomic"
	"time"
)

// maxCatchUp is how many missed ticks a Clock replays back to back after a stall before it gives
// up and skips ahead: replaying keeps every leg's jitter buffer and RTP timestamps continuous
// across a short stall (a GC pause, a busy core), while skipping bounds the burst after a long one.
const maxCatchUp = 5

// Clock runs a function every period on absolute time: tick n is due at start + n·period, so
// the clock never drifts however long each tick takes. A tick that starts late is counted; after
// a stall the missed ticks are run back to back (at most maxCatchUp of them), then the clock
// skips ahead and counts what it skipped.
type Clock struct {
	period  time.Duration
	late    atomic.Uint64
	skipped atomic.Uint64
	ticks   atomic.Uint64
}

// ClockStats is a snapshot of a Clock's counters.
type ClockStats struct {
	// Ticks is the number of ticks run.
	Ticks uint64
	// Late is the number of ticks that started more than half a period after they were due.
	Late uint64
	// Skipped is the number of ticks dropped after a stall longer than maxCatchUp periods.
	Skipped uint64
}

// NewClock returns a Clock with the given period.
func NewClock(period time.Duration) *Clock { return &Clock{period: period} }

// Stats returns the clock's counters; it is safe to call from any goroutine.
func (c *Clock) Stats() ClockStats {
	return ClockStats{Ticks: c.ticks.Load(), Late: c.late.Load(), Skipped: c.skipped.Load()}
}

// Run calls tick(due) for every tick from start on until ctx is done, where due is the tick's
// scheduled time (not the time it actually ran: media timing follows the schedule). It returns
// ctx's error.
func (c *Clock) Run(ctx context.Context, start time.Time, tick func(due time.Time)) error {
	timer := time.NewTimer(time.Until(start))
	defer timer.Stop()
	next := start
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		now := time.Now()
		behind := int(now.Sub(next) / c.period)
		if behind > maxCatchUp {
			skip := behind - maxCatchUp
			c.skipped.Add(uint64(skip))
			next = next.Add(time.Duration(skip) * c.period)
		}
		for !next.After(now) {
			if now.Sub(next) > c.period/2 {
				c.late.Add(1)
			}
			tick(next)
			c.ticks.Add(1)
			next = next.Add(c.period)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		timer.Reset(time.Until(next))
	}
}
