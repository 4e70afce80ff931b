package dtmf

import (
	"cmp"
	"fmt"
	"time"
)

// CollectorConfig configures a Collector. The zero value is usable; a negative timeout turns
// that timeout off.
type CollectorConfig struct {
	// MaxDigits ends the entry when this many digits are in. Zero means 16; at most 64.
	MaxDigits int
	// Terminator is the key that finishes an entry early. Zero means '#'.
	Terminator Digit
	// FirstDigitTimeout is how long to wait for the first digit after Start. Zero means 10 s.
	FirstDigitTimeout time.Duration
	// InterDigitTimeout is how long to wait for each further digit. Zero means 5 s.
	InterDigitTimeout time.Duration
	// OverallTimeout bounds the whole entry from Start. Zero means 30 s.
	OverallTimeout time.Duration
}

func (c CollectorConfig) normalized() (CollectorConfig, error) {
	c.MaxDigits = cmp.Or(c.MaxDigits, 16)
	if c.MaxDigits < 1 || c.MaxDigits > maxCollected {
		return c, fmt.Errorf("dtmf: MaxDigits %d outside 1-%d", c.MaxDigits, maxCollected)
	}
	c.Terminator = cmp.Or(c.Terminator, '#')
	if !c.Terminator.Valid() {
		return c, fmt.Errorf("%w: terminator %q", ErrNotDigit, byte(c.Terminator))
	}
	c.FirstDigitTimeout = cmp.Or(c.FirstDigitTimeout, 10*time.Second)
	c.InterDigitTimeout = cmp.Or(c.InterDigitTimeout, 5*time.Second)
	c.OverallTimeout = cmp.Or(c.OverallTimeout, 30*time.Second)
	return c, nil
}

const maxCollected = 64

// Status is the state of a Collector's entry.
type Status int

// The states of an entry. Every state but Collecting is final until the next Start.
const (
	// Collecting: the entry goes on.
	Collecting Status = iota
	// Terminated: the terminator key was pressed; Digits holds what came before it (possibly
	// nothing).
	Terminated
	// Full: MaxDigits digits are in.
	Full
	// InterDigitTimeout: digits came, then none for InterDigitTimeout. Many IVRs take the
	// digits so far as the entry; the caller decides.
	InterDigitTimeout
	// NoInput: no digit came within FirstDigitTimeout.
	NoInput
	// Timeout: OverallTimeout passed since Start.
	Timeout
)

// String names the status.
func (s Status) String() string {
	switch s {
	case Collecting:
		return "collecting"
	case Terminated:
		return "terminated"
	case Full:
		return "full"
	case InterDigitTimeout:
		return "inter-digit timeout"
	case NoInput:
		return "no input"
	case Timeout:
		return "timeout"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Collector gathers the digits of one IVR entry — a meeting number, a PIN — from whatever
// source (RFC 4733 or SIP INFO), with a terminator, a length limit and timeouts driven by the
// caller's clock. Counting tries ("three wrong PINs and goodbye") is the caller's: Start again
// for each try. It owns no timer: call Check on the leg's tick, or at Deadline.
type Collector struct {
	cfg     CollectorConfig
	digits  [maxCollected]byte
	n       int
	started time.Time
	lastAt  time.Time
	status  Status
}

// NewCollector returns a Collector whose first entry starts at now.
func NewCollector(cfg CollectorConfig, now time.Time) (*Collector, error) {
	c, err := cfg.normalized()
	if err != nil {
		return nil, err
	}
	col := &Collector{cfg: c}
	col.Start(now)
	return col, nil
}

// Start begins a new entry at now, forgetting the previous one.
func (c *Collector) Start(now time.Time) {
	c.n, c.started, c.lastAt, c.status = 0, now, now, Collecting
}

// Add takes one digit pressed at now and returns the entry's status. Digits after the entry
// finished are ignored. A timeout that passed before now is applied first, so a digit that
// comes too late does not count.
func (c *Collector) Add(d Digit, now time.Time) Status {
	if c.Check(now) != Collecting || !d.Valid() {
		return c.status
	}
	if d == c.cfg.Terminator {
		c.status = Terminated
		return c.status
	}
	c.digits[c.n] = byte(d)
	c.n++
	c.lastAt = now
	if c.n >= c.cfg.MaxDigits {
		c.status = Full
	}
	return c.status
}

// Check applies the timeouts at now and returns the entry's status.
func (c *Collector) Check(now time.Time) Status {
	if c.status != Collecting {
		return c.status
	}
	switch {
	case c.cfg.OverallTimeout > 0 && !now.Before(c.started.Add(c.cfg.OverallTimeout)):
		c.status = Timeout
	case c.n == 0 && c.cfg.FirstDigitTimeout > 0 && !now.Before(c.started.Add(c.cfg.FirstDigitTimeout)):
		c.status = NoInput
	case c.n > 0 && c.cfg.InterDigitTimeout > 0 && !now.Before(c.lastAt.Add(c.cfg.InterDigitTimeout)):
		c.status = InterDigitTimeout
	}
	return c.status
}

// Deadline returns the time at which Check will next change the status if no digit comes, or
// the zero time when no timeout applies or the entry is finished.
func (c *Collector) Deadline() time.Time {
	if c.status != Collecting {
		return time.Time{}
	}
	var dl time.Time
	consider := func(t time.Time, on bool) {
		if on && (dl.IsZero() || t.Before(dl)) {
			dl = t
		}
	}
	consider(c.started.Add(c.cfg.OverallTimeout), c.cfg.OverallTimeout > 0)
	if c.n == 0 {
		consider(c.started.Add(c.cfg.FirstDigitTimeout), c.cfg.FirstDigitTimeout > 0)
	} else {
		consider(c.lastAt.Add(c.cfg.InterDigitTimeout), c.cfg.InterDigitTimeout > 0)
	}
	return dl
}

// Status returns the entry's status without applying timeouts.
func (c *Collector) Status() Status { return c.status }

// Digits returns the digits entered so far, without the terminator.
func (c *Collector) Digits() string { return string(c.digits[:c.n]) }

// Len returns the number of digits entered so far.
func (c *Collector) Len() int { return c.n }
