package guard

import (
	"net/netip"
	"sync"
	"time"
)

// AdmissionConfig sets up Admission. Every zero value is the documented default.
type AdmissionConfig struct {
	// Rate is how many new sessions (or requests, for Allow) one source may start per second on
	// average. Zero means 10.
	Rate float64
	// Burst is how many it may start at once after a quiet spell. Zero means 2×Rate, at least 1.
	Burst int
	// PerSource is how many sessions one source may hold at once. Zero means 32.
	PerSource int
	// Total is how many sessions every source together may hold. Zero means no cap other than
	// PerSource.
	Total int
	// Exempt sources (trunks, a proxy in front of confd) pass the per-source rate and cap but
	// count against Total.
	Exempt []netip.Prefix
	// MaxEntries bounds the per-source table. Zero means 65536.
	MaxEntries int
}

// Admission is the pike-style gate at the door of a listener: a token bucket of Rate and Burst
// per source, a cap on the sessions a source holds (PerSource) and on all of them (Total).
// Refusals are *Refusal errors wrapping ErrRateLimited, ErrSourceBusy or ErrFull with a
// Retry-After.
type Admission struct {
	cfg AdmissionConfig

	mu    sync.Mutex
	srcs  *table[Key, bucket]
	total int
}

type bucket struct {
	Bucket
	held int
}

// NewAdmission returns an Admission with cfg's limits.
func NewAdmission(cfg AdmissionConfig) *Admission {
	if cfg.Rate <= 0 {
		cfg.Rate = 10
	}
	if cfg.Burst <= 0 {
		cfg.Burst = max(int(2*cfg.Rate), 1)
	}
	if cfg.PerSource <= 0 {
		cfg.PerSource = 32
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 65536
	}
	return &Admission{cfg: cfg, srcs: newTable[Key, bucket](cfg.MaxEntries, func(b *bucket) bool { return b.held > 0 })}
}

// exempt reports whether src, as it came (not folded to its /64: a trunk may be one IPv6
// address), is in an Exempt prefix.
func (a *Admission) exempt(src netip.Addr) bool { return InPrefixes(a.cfg.Exempt, src) }

// InPrefixes reports whether addr, an IPv4-mapped address as its IPv4 one and without its
// zone, is within one of prefixes: the one test of a trusted (trunk) address.
func InPrefixes(prefixes []netip.Prefix, addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Allow takes one token from src's bucket: a request that starts nothing held (REGISTER,
// OPTIONS, a WebSocket upgrade) or the first step of one that does.
func (a *Admission) Allow(src netip.Addr, now time.Time) error {
	if a.exempt(src) {
		return nil
	}
	key := Source(src)
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.take(a.srcs.get(key), now)
}

func (a *Admission) take(b *bucket, now time.Time) error {
	if ok, wait := b.Take(a.cfg.Rate, a.cfg.Burst, now); !ok {
		return &Refusal{Err: ErrRateLimited, RetryAfter: wait}
	}
	return nil
}

// Acquire admits a session from src at now: a token from its bucket (the rate is checked first,
// so a flood is told apart from a busy source), then a place under
// PerSource and Total. On success the caller must Release(src) exactly once when the session
// ends (or is refused later on).
func (a *Admission) Acquire(src netip.Addr, now time.Time) error {
	ex := a.exempt(src)
	key := Source(src)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cfg.Total > 0 && a.total >= a.cfg.Total {
		return &Refusal{Err: ErrFull, RetryAfter: 30 * time.Second}
	}
	if ex {
		a.total++
		return nil
	}
	b := a.srcs.get(key)
	if err := a.take(b, now); err != nil {
		return err
	}
	if b.held >= a.cfg.PerSource {
		return &Refusal{Err: ErrSourceBusy, RetryAfter: 30 * time.Second}
	}
	b.held++
	a.total++
	return nil
}

// Release gives back a session that Acquire admitted from src.
func (a *Admission) Release(src netip.Addr) {
	ex := a.exempt(src)
	key := Source(src)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.total > 0 {
		a.total--
	}
	if ex {
		return
	}
	if b, ok := a.srcs.peek(key); ok && b.held > 0 {
		b.held--
	}
}

// Held returns how many sessions src holds and how many all sources hold.
func (a *Admission) Held(src netip.Addr) (fromSource, total int) {
	key := Source(src)
	a.mu.Lock()
	defer a.mu.Unlock()
	if b, ok := a.srcs.peek(key); ok {
		fromSource = b.held
	}
	return fromSource, a.total
}
