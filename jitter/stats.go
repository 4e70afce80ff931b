package jitter

import (
	"sync/atomic"
	"time"
)

// counters are the buffer's statistics, written with atomics by whichever side sees the event so
// that Stats can be read from any goroutine while Push and Advance run.
type counters struct {
	pushed, played, late, lost, concealed, fecRecovered, duplicates                    atomic.Uint64
	dropped, accelerated, overflow, invalid, events, restarts, jumps, expanded, strays atomic.Uint64
	currentDelay, targetDelay                                                          atomic.Int64
}

// Stats is a snapshot of a Buffer's counters and delays. Counters only grow.
type Stats struct {
	// CurrentDelay is how long the audio played last waits behind the fastest path the network
	// showed in the last two seconds: the buffer's playout delay.
	CurrentDelay time.Duration
	// TargetDelay is the delay the buffer steers towards: the 98th percentile of recent relative
	// arrival delays, within [MinDelay, MaxDelay], at least 30 ms while loss is seen on Opus.
	TargetDelay time.Duration
	// Pushed counts packets given to Push with a known payload type and an acceptable size.
	Pushed uint64
	// Played counts audio packets the playout took (decoded, or consumed undecoded when no Read
	// came in their tick).
	Played uint64
	// Late counts packets that arrived after their turn to play had passed, or that would have
	// played more than MaxDelay behind the fastest packets: dropped.
	Late uint64
	// Lost counts audio sequence numbers the playout gave up on (RFC 3550 loss, plus packets so
	// late that they count as lost before they arrive).
	Lost uint64
	// Concealed counts concealment runs the decode stage played (packet loss concealment for a
	// lost packet or for waiting on a late one).
	Concealed uint64
	// FECRecovered counts lost packets rebuilt from the in-band FEC of the packet after them
	// (Opus LBRR, RFC 6716 section 2.1.7).
	FECRecovered uint64
	// Duplicates counts packets received twice.
	Duplicates uint64
	// Dropped counts audio packets skipped to shorten the delay (silent ones first).
	Dropped uint64
	// Accelerated counts ticks whose dropped packets were time-compressed away instead of cut:
	// whole pitch periods removed where the audio is periodic, a 5 ms cross-fade elsewhere. Drops
	// in ticks not read, DTX frames and packets longer than 60 ms are cut.
	Accelerated uint64
	// Expanded counts ticks the playout stretched by concealment, to wait for a packet or to
	// grow the delay towards the target.
	Expanded uint64
	// Overflow counts packets too far ahead or behind to store (a sequence jump on probation).
	Overflow uint64
	// Invalid counts packets Push refused with an error.
	Invalid uint64
	// Events counts telephone-event and comfort-noise packets handed on.
	Events uint64
	// Restarts counts stream restarts: a new SSRC or a sequence jump that held.
	Restarts uint64
	// Strays counts packets of another SSRC that were dropped because the next packet did not
	// come from that SSRC too.
	Strays uint64
	// TimestampJumps counts timestamp discontinuities the media timeline was re-anchored at,
	// and moves of the stream's path (packets that kept coming more than MaxDelay behind the
	// fastest path) after which the fastest path was measured afresh.
	TimestampJumps uint64
}

// Stats returns a snapshot of the buffer's statistics. It is safe to call from any goroutine and
// allocates nothing.
func (b *Buffer) Stats() Stats {
	c := &b.stats
	return Stats{
		CurrentDelay:   time.Duration(c.currentDelay.Load()),
		TargetDelay:    time.Duration(c.targetDelay.Load()),
		Pushed:         c.pushed.Load(),
		Played:         c.played.Load(),
		Late:           c.late.Load(),
		Lost:           c.lost.Load(),
		Concealed:      c.concealed.Load(),
		FECRecovered:   c.fecRecovered.Load(),
		Duplicates:     c.duplicates.Load(),
		Dropped:        c.dropped.Load(),
		Accelerated:    c.accelerated.Load(),
		Expanded:       c.expanded.Load(),
		Overflow:       c.overflow.Load(),
		Invalid:        c.invalid.Load(),
		Events:         c.events.Load(),
		Restarts:       c.restarts.Load(),
		Strays:         c.strays.Load(),
		TimestampJumps: c.jumps.Load(),
	}
}

// CurrentDelay returns Stats().CurrentDelay with one atomic load, for callers that sample it
// every tick (the bench's delay figure).
func (b *Buffer) CurrentDelay() time.Duration { return time.Duration(b.stats.currentDelay.Load()) }
