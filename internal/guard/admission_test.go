package guard

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

var (
	flooder = netip.MustParseAddr("127.0.0.2")
	caller  = netip.MustParseAddr("127.0.0.3")
)

// A flood from one source gets its burst, then its rate; its sessions stop at PerSource; another
// source is not affected.
func TestAdmissionFloodFromOneSource(t *testing.T) {
	a := NewAdmission(AdmissionConfig{Rate: 10, Burst: 20, PerSource: 5})
	now := time.Unix(1_700_000_000, 0)
	admitted, rate, busy := 0, 0, 0
	for i := range 2000 {
		now = now.Add(time.Millisecond / 2) // 2,000/s
		switch err := a.Acquire(flooder, now); {
		case err == nil:
			admitted++
		case errors.Is(err, ErrRateLimited):
			rate++
		case errors.Is(err, ErrSourceBusy):
			busy++
		default:
			t.Fatalf("try %d: %v", i, err)
		}
	}
	if admitted != 5 {
		t.Errorf("%d sessions admitted from the flooder, want PerSource 5", admitted)
	}
	if rate == 0 || busy == 0 {
		t.Errorf("refusals: %d by rate, %d busy; want both", rate, busy)
	}
	if err := a.Acquire(caller, now); err != nil {
		t.Errorf("another source refused: %v", err)
	}
	for range 5 {
		a.Release(flooder)
	}
	if src, total := a.Held(flooder); src != 0 || total != 1 {
		t.Errorf("held after release: %d from the flooder, %d total; want 0, 1", src, total)
	}
}

func TestAdmissionTotalAndExempt(t *testing.T) {
	a := NewAdmission(AdmissionConfig{PerSource: 1, Total: 3, Exempt: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	now := time.Unix(1_700_000_000, 0)
	trunk := netip.MustParseAddr("192.0.2.9")
	for i := range 3 {
		if err := a.Acquire(trunk, now); err != nil {
			t.Fatalf("trunk call %d refused: %v", i, err)
		}
	}
	err := a.Acquire(caller, now)
	if !errors.Is(err, ErrFull) || RetryAfterSeconds(err) < 1 {
		t.Errorf("past Total: %v, want ErrFull with Retry-After", err)
	}
}

// IPv6 sources are folded to their /64, so rotating addresses within it does not help.
func TestAdmissionIPv6Prefix(t *testing.T) {
	a := NewAdmission(AdmissionConfig{PerSource: 2})
	now := time.Unix(1_700_000_000, 0)
	for i, s := range []string{"2001:db8::1", "2001:db8::2", "2001:db8::3"} {
		err := a.Acquire(netip.MustParseAddr(s), now)
		if (i < 2) != (err == nil) {
			t.Errorf("%s: %v", s, err)
		}
	}
}

// A spoofed-source flood keeps the table at its bound, and a source that holds sessions is not
// forgotten (its Release still finds it).
func TestAdmissionBounded(t *testing.T) {
	a := NewAdmission(AdmissionConfig{MaxEntries: 64})
	now := time.Unix(1_700_000_000, 0)
	if err := a.Acquire(caller, now); err != nil {
		t.Fatal(err)
	}
	for i := range 100_000 {
		a.Allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), now)
	}
	if n := a.srcs.len(); n > 64 {
		t.Errorf("%d sources kept, want at most 64", n)
	}
	if src, _ := a.Held(caller); src != 1 {
		t.Errorf("the holding source was forgotten: held %d", src)
	}
}
