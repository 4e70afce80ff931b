package recording

import "sync/atomic"

// ring hands fixed slots from a producer that must never block (the room's tick) to a consumer
// goroutine (the file writer). Every slot is allocated once; a producer that finds no free slot
// drops its item and counts it.
type ring[T any] struct {
	slots   []T
	free    chan int32
	full    chan int32
	dropped atomic.Uint64
}

func newRing[T any](n int) *ring[T] {
	r := &ring[T]{slots: make([]T, n), free: make(chan int32, n), full: make(chan int32, n)}
	for i := range n {
		r.free <- int32(i)
	}
	return r
}

// acquire returns a free slot to fill, or false (and counts a drop) when the consumer is behind.
func (r *ring[T]) acquire() (int32, *T, bool) {
	select {
	case i := <-r.free:
		return i, &r.slots[i], true
	default:
		r.dropped.Add(1)
		return 0, nil, false
	}
}

// publish hands a filled slot to the consumer; it never blocks, since there are as many places
// in full as there are slots.
func (r *ring[T]) publish(i int32) { r.full <- i }

// release returns a consumed slot.
func (r *ring[T]) release(i int32) { r.free <- i }
