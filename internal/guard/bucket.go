package guard

import "time"

// Bucket is a token bucket: it holds up to burst tokens and refills at rate tokens a second.
// The zero value is full. It is not safe for concurrent use: its owner locks it.
type Bucket struct {
	tokens float64
	at     time.Time
}

// Take spends one token at now. When there is none it reports false and how long until there
// will be one (a Retry-After).
func (b *Bucket) Take(rate float64, burst int, now time.Time) (bool, time.Duration) {
	if b.at.IsZero() {
		b.tokens = float64(burst)
	} else if dt := now.Sub(b.at).Seconds(); dt > 0 {
		b.tokens = min(float64(burst), b.tokens+dt*rate)
	}
	b.at = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / rate * float64(time.Second))
	}
	b.tokens--
	return true, 0
}
