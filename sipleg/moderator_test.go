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

// moderatorIn reports whether the room has one participant, and whether it is a moderator.
func moderatorIn(ts *testServer, room string) (joined, moderator bool) {
	st, err := ts.bridge.RoomState(room)
	if err != nil || len(st.Participants) != 1 {
		return false, false
	}
	return true, st.Participants[0].Moderator
}

// TestModeratorPINMakesAModerator: at the PIN prompt of a room with a PIN and a moderator PIN,
// the moderator PIN joins as a moderator and the PIN as a participant; a room with only a
// moderator PIN takes '#' alone as a participant.
func TestModeratorPINMakesAModerator(t *testing.T) {
	skipPromptsIfShort(t)
	t.Parallel()
	ts := startServer(t, Config{IVRDigitTimeout: 3 * time.Second}, map[string]bridge.RoomSettings{
		"both": {PIN: "4321", ModeratorPIN: "9999"}, "modonly": {ModeratorPIN: "9999"}, "plain": {PIN: "4321", ModeratorPIN: "9999"},
	})
	for _, c := range []struct {
		room, typed string
		moderator   bool
	}{{"both", "9999#", true}, {"plain", "4321#", false}, {"modonly", "#", false}} {
		p := dialRawPhone(t, ts, c.room, 700)
		if joined, _ := moderatorIn(ts, c.room); joined {
			t.Fatalf("%s: joined before the PIN", c.room)
		}
		p.typeDigits(t, c.typed)
		// The IVR says "joining" before it joins.
		testkit.Eventually(t, 20*time.Second, "the moderator did not join", func() bool { joined, _ := moderatorIn(ts, c.room); return joined })
		if _, mod := moderatorIn(ts, c.room); mod != c.moderator {
			t.Errorf("%s after %q: moderator %v, want %v", c.room, c.typed, mod, c.moderator)
		}
		p.d.bye()
	}
	waitIdle(t, ts)
}

// TestTrustedDialInJoinsAsModeratorWithoutPIN: a call from a trunk whose From user is in the
// room's moderators joins at once, as a moderator, though the room has a PIN; from an address
// that is not a trunk the same From user is asked for the PIN.
func TestTrustedDialInJoinsAsModeratorWithoutPIN(t *testing.T) {
	t.Parallel()
	rooms := map[string]bridge.RoomSettings{"board": {PIN: "4321", Moderators: []string{"tester"}}}
	trusted := startServer(t, Config{Auth: sipua.AuthConfig{Trunks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}}, rooms)
	p := dialRawPhone(t, trusted, "board", 700)
	testkit.Eventually(t, 5*time.Second, "the trusted caller did not join as moderator", func() bool { joined, _ := moderatorIn(trusted, "board"); return joined })
	if _, mod := moderatorIn(trusted, "board"); !mod {
		t.Error("a trusted dial-in listed as moderator joined as a participant")
	}
	p.d.bye()
	waitIdle(t, trusted)

	untrusted := startServer(t, Config{}, rooms)
	q := dialRawPhone(t, untrusted, "board", 700)
	time.Sleep(500 * time.Millisecond) // the IVR's prompt, not the room
	if joined, _ := moderatorIn(untrusted, "board"); joined {
		t.Error("a caller not from a trunk joined a room with a PIN without it")
	}
	q.d.bye()
	waitIdle(t, untrusted)
}

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
	testkit.Eventually(t, 20*time.Second, "the moderator did not join through the IVR", func() bool { joined, _ := moderatorIn(ts, "4242"); return joined })
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
	testkit.Eventually(t, 10*time.Second, "the PIN was never checked", func() bool { return attempts.Stats().Wrong+attempts.Stats().Right > 0 })
	if st := attempts.Stats(); st.Right != 0 || st.Wrong != 1 {
		t.Errorf("an over-long entry counted as %+v, want one wrong PIN", st)
	}
	if joined, _ := moderatorIn(ts, "modonly"); joined {
		t.Error("an over-long entry joined the room")
	}
	p.d.bye()
	waitIdle(t, ts)
}
