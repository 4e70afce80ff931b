package sipleg

import (
	"net/netip"
	"testing"
	"time"

	"confd/bridge"
	"confd/internal/guard"
	"confd/sipua"
	"confd/testkit"
)

// TestTrustedDialInThroughADialInNumberIsAModerator (red team, issue 13): a trunk's caller
// listed in a room's moderators who reaches it through a dial-in number (typing the meeting
// number) skips the PIN, as when it calls the room directly, and joins as a moderator. It
// skipped the PIN but joined as an ordinary participant, so a wait_for_moderator room it
// was meant to open kept everyone waiting.
func TestTrustedDialInThroughADialInNumberIsAModerator(t *testing.T) {
	skipPromptsIfShort(t)
	t.Parallel()
	ts := startServer(t, Config{DialIn: []string{"1000"}, IVRDigitTimeout: 3 * time.Second,
		Auth: sipua.AuthConfig{Trunks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}},
		map[string]bridge.RoomSettings{"4242": {PIN: "987", Moderators: []string{"tester"}}})
	p := dialRawPhone(t, ts, "1000", 700)
	p.typeDigits(t, "4242#")
	testkit.Eventually(t, 20*time.Second, func() bool { joined, _ := moderatorIn(ts, "4242"); return joined })
	if _, mod := moderatorIn(ts, "4242"); !mod {
		t.Error("a trusted dial-in listed as moderator joined through the dial-in number as a participant")
	}
	p.d.bye()
	waitIdle(t, ts)
}

// TestOverlongEntryIsAWrongModeratorPIN (red team, issue 13): in a room with only a moderator
// PIN, '#' alone joins as an ordinary participant and anything else typed is a guess at the
// moderator PIN. An entry longer than the IVR takes must not be compared with the room's empty
// PIN (that would be "right": it would join the caller and mark its source in guard.Attempts
// as one that knows the room's secret, exempt from the room-wide slow-down that holds back
// guessing from many addresses). It is one wrong moderator PIN.
func TestOverlongEntryIsAWrongModeratorPIN(t *testing.T) {
	skipPromptsIfShort(t)
	t.Parallel()
	attempts := guard.NewAttempts(guard.AttemptsConfig{})
	ts := startServer(t, Config{Attempts: attempts, IVRDigitTimeout: 2 * time.Second},
		map[string]bridge.RoomSettings{"modonly": {ModeratorPIN: "9999"}})
	p := dialRawPhone(t, ts, "modonly", 700)
	for range 70 {
		if code := p.d.info('1'); code != 200 {
			t.Fatalf("INFO answered %d", code)
		}
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return attempts.Stats().Wrong+attempts.Stats().Right > 0 })
	if st := attempts.Stats(); st.Right != 0 || st.Wrong != 1 {
		t.Errorf("an over-long entry counted as %+v, want one wrong PIN", st)
	}
	if joined, _ := moderatorIn(ts, "modonly"); joined {
		t.Error("an over-long entry joined the room")
	}
	p.d.bye()
	waitIdle(t, ts)
}
