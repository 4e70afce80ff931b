package guard

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// guess plays one PIN try the way a leg does: Allow, then Fail (the PIN is always wrong here).
// It reports whether the PIN was looked at.
func guess(a *Attempts, who, room string, now time.Time) bool {
	if err := a.Allow(who, room, now); err != nil {
		return false
	}
	a.Fail(who, room, now)
	return true
}

// An attacker who retries as soon as Retry-After allows gets a handful of guesses in before the
// delays start, then waits longer and longer, and is locked out after Lockout failures: in an
// hour it has had about Lockout guesses, most of its tries were refused without the PIN being
// checked, and another source is not slowed.
func TestAttemptsSlowsAndLocksOutOneSource(t *testing.T) {
	a := NewAttempts(AttemptsConfig{})
	start := time.Unix(1_700_000_000, 0)
	now := start
	checked, refused := 0, 0
	for now.Sub(start) < time.Hour {
		if guess(a, "192.0.2.1", "room", now) {
			checked++
			if checked == 200 {
				break
			}
			continue
		}
		refused++
		err := a.Allow("192.0.2.1", "room", now)
		if !errors.Is(err, ErrLockedOut) || RetryAfterSeconds(err) < 1 {
			t.Fatalf("refusal %v: want ErrLockedOut with a Retry-After", err)
		}
		now = now.Add(time.Duration(RetryAfterSeconds(err)) * time.Second)
		if checked == 5 && now.Sub(start) > 2*time.Second {
			t.Errorf("first delay after the free tries is %s, want about 1 s", now.Sub(start))
		}
	}
	if checked > 25 {
		t.Errorf("%d PINs checked in an hour, want the lock-out near 20", checked)
	}
	t.Logf("%d PINs checked in %s, %d tries refused unchecked", checked, now.Sub(start), refused)
	// guess's own Allow and the loop's second look each count a refusal.
	if st := a.Stats(); st.Wrong != uint64(checked) || st.Refused != 2*uint64(refused) || st.Right != 0 {
		t.Errorf("stats %+v, want %d wrong and %d refused", st, checked, 2*refused)
	}
	if err := a.Allow("192.0.2.2", "room", now); err != nil {
		t.Errorf("another source refused: %v", err)
	}
}

// A guess spread over many addresses gets one try per address: once a room has taken RoomFree
// failures, a source that failed must wait before its next try. A newcomer (the right PIN on a
// phone that never failed) and a source that already gave the PIN are not slowed, nor is another
// room.
func TestAttemptsRoomCountStopsDistributedGuess(t *testing.T) {
	a := NewAttempts(AttemptsConfig{RoomFree: 10})
	now := time.Unix(1_700_000_000, 0)
	a.Succeed("198.51.100.7", "room", now)
	who := func(i int) string { return "10.0.0." + string(rune('0'+i%10)) + string(rune('0'+i/10)) }
	first, second := 0, 0
	for i := range 100 {
		if guess(a, who(i), "room", now) {
			first++
		}
	}
	for i := range 100 {
		if guess(a, who(i), "room", now.Add(time.Second)) {
			second++
		}
	}
	if first != 100 || second != 0 {
		t.Errorf("100 sources: %d first tries and %d second tries checked, want 100 and 0", first, second)
	}
	if err := a.Allow("203.0.113.9", "room", now); err != nil {
		t.Errorf("a newcomer is kept out of the room under attack: %v", err)
	}
	if err := a.Allow("198.51.100.7", "room", now); err != nil {
		t.Errorf("a source that knows the PIN is slowed: %v", err)
	}
}

// TestAttemptsRoomCountStopsAGuessBehindATrunk (red team, issue 14): the callers behind a trunk
// are counted apart (CallerKey: the trunk's address and the From user), so that one of them
// cannot lock out the others; but the From user is the caller's to choose, and a newcomer's try
// was never slowed by the room's count, so an attacker calling through a trunk (a Kamailio in
// front of confd, a proxy in front of /sip) got one guess per From user it made up: the whole
// PIN space at the trunk's call rate. A caller behind a trunk whose callers have failed lately is
// no newcomer: once the room has taken RoomFree wrong PINs it waits as a source that failed does.
// A newcomer elsewhere and a caller that gave the PIN before are still not slowed.
func TestAttemptsRoomCountStopsAGuessBehindATrunk(t *testing.T) {
	a := NewAttempts(AttemptsConfig{RoomFree: 10})
	now := time.Unix(1_700_000_000, 0)
	trunk := SourceOf("10.0.0.10:5060")
	a.Succeed(CallerKey(trunk, "alice"), "room", now)
	checked := 0
	for i := range 1000 {
		if guess(a, CallerKey(trunk, fmt.Sprintf("caller%d", i)), "room", now.Add(time.Duration(i)*time.Millisecond)) {
			checked++
		}
	}
	if checked > 11 {
		t.Errorf("1000 made-up callers behind one trunk: %d guesses checked within a second, want at most RoomFree+1", checked)
	}
	if err := a.Allow(SourceOf("203.0.113.9:5060").String(), "room", now); err != nil {
		t.Errorf("a newcomer from elsewhere is kept out of the room under attack: %v", err)
	}
	if err := a.Allow(CallerKey(SourceOf("192.0.2.20:5060"), "bob"), "room", now); err != nil {
		t.Errorf("a newcomer behind another trunk is kept out of the room under attack: %v", err)
	}
	if err := a.Allow(CallerKey(trunk, "alice"), "room", now); err != nil {
		t.Errorf("a caller behind the trunk that knows the PIN is slowed: %v", err)
	}
	if err := a.Allow(CallerKey(trunk, "carol"), "other", now); err != nil {
		t.Errorf("a caller behind the trunk is slowed in another room: %v", err)
	}
	if err := a.Allow(trunk.String(), "room", now); err != nil {
		t.Errorf("the trunk's own address (a WHIP request from it) is slowed by its callers' guesses: %v", err)
	}
}

// Failures are forgotten after Forget, so a user who mistyped last week starts afresh.
func TestAttemptsForget(t *testing.T) {
	a := NewAttempts(AttemptsConfig{Free: 2, Forget: time.Minute})
	now := time.Unix(1_700_000_000, 0)
	guess(a, "s", "r", now)
	guess(a, "s", "r", now)
	if a.Allow("s", "r", now) == nil {
		t.Fatal("third try at once allowed, want a delay after Free")
	}
	if err := a.Allow("s", "r", now.Add(2*time.Minute)); err != nil {
		t.Errorf("after Forget: %v", err)
	}
}

// The source table stays bounded under a flood of distinct sources.
func TestAttemptsBounded(t *testing.T) {
	a := NewAttempts(AttemptsConfig{MaxEntries: 100})
	now := time.Unix(1_700_000_000, 0)
	for i := range 10_000 {
		a.Fail(string(rune(i)), "r", now)
	}
	if n := a.sources.len(); n > 100 {
		t.Errorf("%d sources kept, want at most 100", n)
	}
}

// A burst of concurrent guesses from one source gets exactly Free of them compared: Check
// refuses, compares and counts in one step, so no guess slips between another's check and its
// failure being counted.
func TestAttemptsCheckIsOneStepUnderConcurrency(t *testing.T) {
	a := NewAttempts(AttemptsConfig{})
	now := time.Unix(1_700_000_000, 0)
	const tries = 200
	errs := make(chan error, tries)
	start := make(chan struct{})
	for i := range tries {
		go func() {
			<-start
			errs <- a.Check("192.0.2.7", "room", "guess"+string(rune('a'+i%26)), "1234", now)
		}()
	}
	close(start)
	wrong, refused := 0, 0
	for range tries {
		switch err := <-errs; {
		case errors.Is(err, ErrWrongSecret):
			wrong++
		case errors.Is(err, ErrLockedOut):
			refused++
		default:
			t.Fatalf("Check = %v", err)
		}
	}
	if wrong != 5 || refused != tries-5 {
		t.Fatalf("%d checked, %d refused: want 5 checked of %d", wrong, refused, tries)
	}
	if err := a.Check("192.0.2.8", "room", "1234", "1234", now); err != nil {
		t.Fatalf("another source with the right PIN: %v", err)
	}
	if s := a.Stats(); s.Wrong != 5 || s.Right != 1 || s.Refused != tries-5 {
		t.Fatalf("stats %+v", s)
	}
}
