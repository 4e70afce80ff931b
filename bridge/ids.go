package bridge

import (
	"crypto/rand"
	"sync"
	"time"
)

// IDLength is the length of every event and participant id: a ULID's 26 characters.
const IDLength = 26

// crockford is the alphabet of Crockford's Base32, which ULIDs are written in; its characters
// sort in the order of their values, so ids compare as strings in the order they were made.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// idSource makes ids that are unique across restarts and across nodes and that sort by time:
// ULIDs (https://github.com/ulid/spec), 48 bits of Unix milliseconds then 80 random bits, in
// the monotonic form: within one millisecond (or while the clock stands behind the last id,
// after a step back) the random part of the last id is incremented, so that ids from one
// source always increase. A restarted confd starts from its clock, past every id of its former
// run; another node draws other random bits. Counters that restart at 1 did neither, and a
// receiver that kept the highest id it had seen dropped everything after a restart.
type idSource struct {
	mu     sync.Mutex
	lastMS uint64
	rnd    [10]byte
	now    func() time.Time
}

func newIDSource(now func() time.Time) *idSource { return &idSource{now: now} }

// next returns the next id.
func (s *idSource) next() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := uint64(s.now().UnixMilli())
	if ms > s.lastMS {
		s.lastMS = ms
		_, _ = rand.Read(s.rnd[:]) // crypto/rand.Read never fails (Go 1.24)
		s.rnd[0] &= 0x7f           // leaves 2^79 increments before the millisecond must move
	} else if !increment(s.rnd[:]) {
		s.lastMS++ // 2^79 ids in one millisecond: borrow the next one
	}
	var raw [16]byte
	for i := range 6 {
		raw[i] = byte(s.lastMS >> (40 - 8*i))
	}
	copy(raw[6:], s.rnd[:])
	return encodeULID(raw)
}

// increment adds one to the big-endian number b and reports false when it wrapped to zero.
func increment(b []byte) bool {
	for i := len(b) - 1; i >= 0; i-- {
		b[i]++
		if b[i] != 0 {
			return true
		}
	}
	return false
}

// encodeULID writes the 128 bits of raw as 26 Crockford Base32 characters, the first standing
// for the top 3 bits (the 2 bits above them being zero).
func encodeULID(raw [16]byte) string {
	var out [IDLength]byte
	for i := range IDLength {
		// Character i holds bits [130-5(i+1), 130-5i) of the 130-bit number (2 leading zeros).
		hi := 130 - 5*i // exclusive top bit position, counted from the least significant bit
		var v byte
		for bit := hi - 1; bit >= hi-5; bit-- {
			v <<= 1
			if bit < 128 && raw[15-bit/8]>>(bit%8)&1 == 1 {
				v |= 1
			}
		}
		out[i] = crockford[v]
	}
	return string(out[:])
}

// ValidID reports whether s has the form of an id this package makes (26 characters of
// Crockford's Base32, upper case, the first at most 7), so that a client's Last-Event-ID can be
// compared with ids as a string.
func ValidID(s string) bool {
	if len(s) != IDLength || s[0] > '7' {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' && c != 'I' && c != 'L' && c != 'O' && c != 'U') {
			return false
		}
	}
	return true
}
