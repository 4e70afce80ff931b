package guard

import "container/list"

// table is a map bounded to max entries: past it, the least recently used entry that pinned
// does not hold is forgotten. Not safe for concurrent use; its owner locks.
type table[K comparable, V any] struct {
	max    int
	items  map[K]*list.Element
	order  *list.List // front: most recently used
	pinned func(*V) bool
}

type entry[K comparable, V any] struct {
	key K
	val V
}

func newTable[K comparable, V any](max int, pinned func(*V) bool) *table[K, V] {
	return &table[K, V]{max: max, items: make(map[K]*list.Element), order: list.New(), pinned: pinned}
}

// get returns k's entry, making a zero one when there is none; the entry becomes the most
// recently used.
func (t *table[K, V]) get(k K) *V {
	if e, ok := t.items[k]; ok {
		t.order.MoveToFront(e)
		return &e.Value.(*entry[K, V]).val
	}
	t.evict()
	e := t.order.PushFront(&entry[K, V]{key: k})
	t.items[k] = e
	return &e.Value.(*entry[K, V]).val
}

// peek returns k's entry without making one or touching the order.
func (t *table[K, V]) peek(k K) (*V, bool) {
	e, ok := t.items[k]
	if !ok {
		return nil, false
	}
	return &e.Value.(*entry[K, V]).val, true
}

func (t *table[K, V]) remove(k K) {
	if e, ok := t.items[k]; ok {
		t.order.Remove(e)
		delete(t.items, k)
	}
}

func (t *table[K, V]) len() int { return len(t.items) }

// evict makes room for one more entry. Pinned entries (a source that holds sessions) are passed
// over; their number is bounded by the caller's own caps.
func (t *table[K, V]) evict() {
	for e := t.order.Back(); e != nil && len(t.items) >= t.max; {
		prev := e.Prev()
		en := e.Value.(*entry[K, V])
		if t.pinned == nil || !t.pinned(&en.val) {
			t.order.Remove(e)
			delete(t.items, en.key)
		}
		e = prev
	}
}
