package sipleg

import (
	"sync"
	"time"

	"confd/internal/guard"
)

// A live dialog's requests pass the per-source request rate (admission.go: a caller's DTMF
// must not be refused because its address is busy), but each one still becomes a sipgo server
// transaction that lives for Timer J (32 s over UDP, RFC 3261 section 17.2.2). A caller that
// floods its own dialog with INFO, OPTIONS or NOTIFY (issue 13 made NOTIFY one of them)
// would hold that many transactions: 10 000 a second is 320 000 of them. Each call gets its
// own budget instead, far above what a phone sends (a digit typed, a session refresh, a
// transfer's few NOTIFYs); beyond it a request is dropped before sipgo sees it, and a phone
// that retransmits over UDP is answered once the budget has refilled (red team, issue 13).
const (
	// dialogRequestRate is the in-dialog requests a call may send a second, on average.
	dialogRequestRate = 50
	// dialogRequestBurst is how many it may send at once.
	dialogRequestBurst = 100
)

// dialogRate is one call's token bucket of in-dialog requests; the zero value is full.
type dialogRate struct {
	mu sync.Mutex
	b  guard.Bucket
}

// allow takes a token at now, reporting whether there was one.
func (d *dialogRate) allow(now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	ok, _ := d.b.Take(dialogRequestRate, dialogRequestBurst, now)
	return ok
}
