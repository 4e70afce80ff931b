package sipleg

import (
	"net/netip"
	"testing"
	"time"

	"confd/bridge"
	"confd/internal/sipua"
	"confd/internal/testkit"
)

// TestTrustedDialInThroughADialInNumberIsAModerator (red team, issue 13): a trunk's caller
// listed in a room's moderators who reaches it through a dial-in number (typing the meeting
// number) skips the PIN, as when it calls the room directly, and joins as a moderator. It
// skipped the PIN but joined as an ordinary participant, so a wait_for_moderator room it
// was meant to open kept everyone waiting.
func TestTrustedDialInThroughADialInNumberIsAModerator(t *testing.T) {
	if testing.Short() {
		t.Skip("plays spoken prompts in real time")
	}
	t.Parallel()
	ts := startServer(t, Config{DialIn: []string{"1000"}, IVRDigitTimeout: 3 * time.Second,
		Auth: sipua.AuthConfig{Trunks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}},
		map[string]bridge.RoomSettings{"4242": {PIN: "987", Moderators: []string{"tester"}}})
	p := dialRawPhone(t, ts, "1000", 700)
	for _, digit := range []byte("4242#") {
		if code := p.d.info(digit); code != 200 {
			t.Fatalf("INFO answered %d", code)
		}
	}
	testkit.Eventually(t, 20*time.Second, func() bool { joined, _ := moderatorIn(ts, "4242"); return joined })
	if _, mod := moderatorIn(ts, "4242"); !mod {
		t.Error("a trusted dial-in listed as moderator joined through the dial-in number as a participant")
	}
	p.d.bye()
	waitIdle(t, ts)
}
