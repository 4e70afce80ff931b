package bridge

import (
	"context"
	"sync/atomic"
	"time"
)

// Clock runs a function every period on absolute time: tick n is due at start + n·period, so
// the clock never drifts however long each tick takes. A tick that starts late is counted. A
// room short of CPU degrades rather than queues (issue 9 item 5): every tick that would start a
// whole period or more after it was due is skipped and counted, and the clock runs the latest
// tick that is due, so that ticks never run back to back to catch up. A burst of catch-up
// ticks would send every listener several packets at once and take the CPU the next ticks need,
// so that an overloaded room fell further behind with each of them; the tick told of the gap
// (its due time is more than a period after the last one's) keeps the RTP clocks in step
// instead (Room.tick).
type Clock struct {
	period  time.Duration
	shift   atomic.Int64 // ns still to move the schedule earlier (negative: later)
	shifted atomic.Int64 // ns moved so far, for tests and stats
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
	// Skipped is the number of ticks dropped because they would have started a period or more
	// late (a stall, or a room short of CPU).
	Skipped uint64
}

// NewClock returns a Clock with the given period.
func NewClock(period time.Duration) *Clock { return &Clock{period: period} }

// Stats returns the clock's counters; it is safe to call from any goroutine.
func (c *Clock) Stats() ClockStats {
	return ClockStats{Ticks: c.ticks.Load(), Late: c.late.Load(), Skipped: c.skipped.Load()}
}

// maxShiftPerTick bounds how much Shift changes one tick's spacing, so that receivers' jitter
// buffers see a slow drift rather than a jump.
const maxShiftPerTick = 500 * time.Microsecond

// Shift moves the schedule by d (positive: ticks come earlier), spread over the next ticks at
// most maxShiftPerTick at a time. It is safe to call from the tick.
func (c *Clock) Shift(d time.Duration) { c.shift.Add(int64(d)) }

// Pending returns how much of the shifts asked for the schedule has still to move.
func (c *Clock) Pending() time.Duration { return time.Duration(c.shift.Load()) }

// Shifted returns how far the schedule has been moved in all (positive: earlier).
func (c *Clock) Shifted() time.Duration { return time.Duration(c.shifted.Load()) }

// Run calls tick(due) for every tick from start on until ctx is done, where due is the tick's
// scheduled time (not the time it actually ran: media timing follows the schedule). It returns
// ctx's error.
func (c *Clock) Run(ctx context.Context, start time.Time, tick func(due time.Time)) error {
	return c.RunBetween(ctx, start, nil, nil, tick)
}

// RunBetween is Run for the owner of a room: on the same goroutine, between runs before every
// tick and whenever wake receives, so that changes queued for the owner are applied between
// ticks, at once when the clock is idle, and the tick needs no lock. between may cancel ctx (the
// room emptied); no tick follows then. A nil wake or between is never used.
func (c *Clock) RunBetween(ctx context.Context, start time.Time, wake <-chan struct{}, between func(), tick func(due time.Time)) error {
	timer := time.NewTimer(time.Until(start))
	defer timer.Stop()
	next := start
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
			between()
			continue
		case <-timer.C:
		}
		now := time.Now()
		if now.Before(next) {
			timer.Reset(next.Sub(now)) // woken early (a timer of a shifted schedule)
			continue
		}
		if behind := now.Sub(next) / c.period; behind > 0 {
			c.skipped.Add(uint64(behind))
			next = next.Add(behind * c.period)
		}
		if between != nil {
			between()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if now.Sub(next) > c.period/2 {
			c.late.Add(1)
		}
		tick(next)
		c.ticks.Add(1)
		next = next.Add(c.period)
		if sh := time.Duration(c.shift.Load()); sh != 0 {
			step := min(max(sh, -maxShiftPerTick), maxShiftPerTick)
			c.shift.Add(-int64(step))
			c.shifted.Add(int64(step))
			next = next.Add(-step)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		timer.Reset(time.Until(next))
	}
}
