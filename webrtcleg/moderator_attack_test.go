package webrtcleg

import (
	"fmt"
	"net/http"
	"testing"

	"confd/bridge"
)

// TestModeratorPINGuessesAreCounted (red team, issue 13): the moderator PIN is a PIN like the
// room's, so guessing it as the WHIP/WHEP bearer token counts in the same guard.Attempts: a
// room with only a moderator PIN (where no token at all joins as an ordinary participant, so
// every token given is a guess at moderator) and a room with both cut one source off after
// a few wrong tokens, and then refuse even the right moderator PIN unchecked.
func TestModeratorPINGuessesAreCounted(t *testing.T) {
	ts := newTestServer(t, bridge.Config{Rooms: map[string]bridge.RoomSettings{
		"modonly": {ModeratorPIN: "482193"}, "both": {PIN: "1234", ModeratorPIN: "482193"},
	}}, Config{})
	offer := attackOffer()
	for i, room := range []string{"modonly", "both"} {
		src := fmt.Sprintf("127.0.1.%d", i+1)
		checked, refused := 0, 0
		for g := range 100 {
			path := "/whip/" + room
			if g%2 == 1 {
				path = "/whep/" + room
			}
			resp, body := ts.postFrom(t, src, path, fmt.Sprintf("%06d", 100000+g), offer)
			switch resp.StatusCode {
			case http.StatusUnauthorized:
				checked++
				if refused > 0 {
					t.Fatalf("%s: guess %d checked after the source was refused", room, g)
				}
			case http.StatusTooManyRequests:
				refused++
			default:
				t.Fatalf("%s: guess %d: %d %s", room, g, resp.StatusCode, body)
			}
		}
		if checked > 20 || refused == 0 {
			t.Errorf("%s: %d of 100 moderator-PIN guesses checked, %d refused: want a lock-out", room, checked, refused)
		}
		if resp, body := ts.postFrom(t, src, "/whip/"+room, "482193", offer); resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("%s: the right moderator PIN after the lock-out: %d %s, want 429", room, resp.StatusCode, body)
		}
	}
}
