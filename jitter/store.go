package jitter

import "confd/codec"

// slot holds one received packet until the playout takes it. The payload bytes are a fixed part
// of one allocation made in New, so storing a packet copies but never allocates.
type slot struct {
	ext      int64 // extended sequence number (RFC 3550 appendix A.1), valid when filled
	filled   bool
	kind     Kind
	pt       uint8
	marker   bool
	hasLevel bool
	voice    bool
	level    codec.Level
	media    int64 // start in the sender's media timeline, in samples at codec.SampleRate
	arrival  int64 // ns on the buffer's clock
	n        int
	payload  []byte // len MaxPayloadSize; the packet is payload[:n]
}

// store is a ring of slots indexed by extended sequence number modulo its length. A packet is
// only stored when its number is within one ring length of the next one to play, so two live
// packets never share a slot.
type store struct {
	slots []slot
}

// newStore allocates capacity slots of maxPayload bytes each.
func newStore(capacity, maxPayload int) store {
	s := store{slots: make([]slot, capacity)}
	mem := make([]byte, capacity*maxPayload)
	for i := range s.slots {
		s.slots[i].payload = mem[i*maxPayload : (i+1)*maxPayload : (i+1)*maxPayload]
	}
	return s
}

// at returns the slot where ext lives, whatever it holds now.
func (s *store) at(ext int64) *slot { return &s.slots[ext%int64(len(s.slots))] }

// get returns the slot holding packet ext, or nil.
func (s *store) get(ext int64) *slot {
	sl := s.at(ext)
	if sl.filled && sl.ext == ext {
		return sl
	}
	return nil
}

// clear empties every slot.
func (s *store) clear() {
	for i := range s.slots {
		s.slots[i].filled = false
	}
}
