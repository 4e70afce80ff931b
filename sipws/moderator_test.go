package sipws

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"confd/bridge"
)

// TestModeratorPINOverWebSocket: the room's moderator PIN (;pin= or X-Confd-PIN) joins as a
// moderator and the PIN as a participant; a room with only a moderator PIN takes a caller who
// gives none (or an empty one) as a participant, and refuses a wrong one (403).
func TestModeratorPINOverWebSocket(t *testing.T) {
	rooms := map[string]bridge.RoomSettings{"both": {PIN: "4321", ModeratorPIN: "9999"}, "modonly": {ModeratorPIN: "9999"}}
	e := newFakeEnv(t, bridge.Config{Rooms: rooms}, Config{RequestRate: 1000}, frozen())
	c := dialSIP(t, e.url)
	for _, tc := range []struct {
		ruri      string
		moderator bool
	}{
		{"sip:both@confd;pin=9999", true}, {"sip:both@confd;pin=4321", false},
		{"sip:modonly@confd", false}, {"sip:modonly@confd;pin=9999", true},
		// An empty PIN is none, as an empty bearer token is over WHIP (bridge.PINToCheck); it
		// was refused "403 PIN required" here.
		{"sip:modonly@confd;pin=", false},
	} {
		e.call(t, c, tc.ruri)
		select {
		case info := <-e.fa.infos:
			if info.Moderator != tc.moderator {
				t.Errorf("%s: moderator %v, want %v", tc.ruri, info.Moderator, tc.moderator)
			}
		case <-time.After(wait):
			t.Fatalf("%s: no join info", tc.ruri)
		}
	}
	if res := c.expectStatus(newDialog("sip:modonly@confd;pin=1111").invite(fakeOffer, ""), sip.INVITE, 403); res.Reason != "Forbidden (wrong PIN)" {
		t.Errorf("a wrong PIN in a room with only a moderator PIN: %s", res.Short())
	}
}
