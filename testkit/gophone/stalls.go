package gophone

import (
	"sync"
	"time"
)

// processStalls records the send stalls of every Phone of this process. The phones share one
// process, so a stall that delayed one phone's sender (a starved process, a GC pause) delayed the
// audio that confd mixed from every phone of it, and a window judged in one phone's ears must
// be cleared against all of them, including phones of other test cases running in parallel.
var processStalls stallLog

// stallLog is a list of spans in which a sender ran behind its schedule. It keeps the last
// maxStalls; a test call is far shorter than what that covers.
type stallLog struct {
	mu    sync.Mutex
	spans []span
}

// maxStalls bounds a stallLog's memory.
const maxStalls = 1024

// add records a stall from from to to, merging with a recorded span it touches (the senders
// report out of order among themselves).
func (l *stallLog) add(from, to time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.spans) - 1; i >= 0 && i >= len(l.spans)-8; i-- {
		if s := &l.spans[i]; !from.After(s.to) && !to.Before(s.from) {
			s.from, s.to = minTime(s.from, from), maxTime(s.to, to)
			return
		}
	}
	if len(l.spans) == maxStalls {
		l.spans = append(l.spans[:0], l.spans[1:]...)
	}
	l.spans = append(l.spans, span{from, to})
}

// Span is a stretch of time from From to To.
type Span struct{ From, To time.Time }

// SendStalls returns the send stalls of every Phone of this process (see sendStallAfter), in the
// order they were recorded: a test that knows how long a stall echoes in what confd sends (its
// jitter buffer shrinks the delay a stall added only slowly) judges around them.
func SendStalls() []Span {
	processStalls.mu.Lock()
	defer processStalls.mu.Unlock()
	out := make([]Span, len(processStalls.spans))
	for i, s := range processStalls.spans {
		out[i] = Span{s.from, s.to}
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
