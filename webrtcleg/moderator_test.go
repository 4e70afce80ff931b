package webrtcleg

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"

	"confd/bridge"
	"confd/testkit/pionbrowser"
)

// TestModeratorPINAsBearer: the moderator PIN as the bearer token is taken (and the call will
// join as a moderator), the PIN too (as a participant); a room with only a moderator PIN takes
// no token as a participant and refuses any other token with 401.
func TestModeratorPINAsBearer(t *testing.T) {
	ts := newTestServer(t, bridge.Config{Rooms: map[string]bridge.RoomSettings{
		"both": {PIN: "1234", ModeratorPIN: "9876"}, "modonly": {ModeratorPIN: "9876"},
	}}, Config{})
	offer := attackOffer()
	for i, c := range []struct {
		path, token string
		want        int
		moderator   bool
	}{
		{"/whip/both", "9876", http.StatusCreated, true},
		{"/whip/both", "1234", http.StatusCreated, false},
		{"/whip/both", "", http.StatusUnauthorized, false},
		{"/whep/modonly", "9876", http.StatusCreated, true},
		{"/whip/modonly", "", http.StatusCreated, false},
		{"/whip/modonly", "5555", http.StatusUnauthorized, false},
	} {
		resp, body := ts.postFrom(t, fmt.Sprintf("127.0.0.%d", i+1), c.path, c.token, offer)
		if resp.StatusCode != c.want {
			t.Errorf("%s with %q: %d %s, want %d", c.path, c.token, resp.StatusCode, body, c.want)
			continue
		}
		if c.want != http.StatusCreated {
			continue
		}
		loc := resp.Header.Get("Location")
		id := loc[strings.LastIndex(loc, "/")+1:]
		call, err := ts.s.Call(id)
		if err != nil || call.info.Moderator != c.moderator {
			t.Errorf("%s with %q: call %v, want moderator %v", c.path, c.token, err, c.moderator)
		}
	}
}

// TestDeleteTakesThePINRuleOfCreate: DELETE on a WHIP/WHEP resource checks its bearer token by
// the rule POST does (bridge.PINToCheck) against the room's settings as they are, whatever the
// bridge is doing: a moderator who joined with the moderator PIN leaves with it; in a room with
// only a moderator PIN the resource URL is the capability (no token passes, a wrong one is a
// wrong guess); while draining the PIN is still asked.
func TestDeleteTakesThePINRuleOfCreate(t *testing.T) {
	ts := newTestServer(t, bridge.Config{Rooms: map[string]bridge.RoomSettings{
		"both":    {PIN: "1234", ModeratorPIN: "9999"},
		"modonly": {ModeratorPIN: "9999"},
		"pinned":  {PIN: "1234"},
	}}, Config{})
	join := func(path, token string) string {
		t.Helper()
		cl := pionbrowser.Start(t, pionbrowser.Options{Direction: webrtc.RTPTransceiverDirectionSendrecv})
		resp, body := ts.post(t, path, "application/sdp", token, cl.Offer())
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, body)
		}
		return resp.Header.Get("Location")
	}
	deletes := func(loc, token string, want int) {
		t.Helper()
		if resp := ts.delete(t, loc, token); resp.StatusCode != want {
			t.Errorf("DELETE %s with token %q: %d, want %d", loc, token, resp.StatusCode, want)
		}
	}

	moderator := join("/whip/both", "9999")
	deletes(moderator, "", http.StatusUnauthorized)
	deletes(moderator, "9999", http.StatusOK)
	participant := join("/whep/both", "1234")
	deletes(participant, "9999", http.StatusOK) // the moderator PIN is a PIN of the room

	open := join("/whip/modonly", "")
	deletes(open, "1111", http.StatusUnauthorized)
	deletes(open, "", http.StatusOK)

	pinned := join("/whip/pinned", "1234")
	ts.b.Drain()
	deletes(pinned, "", http.StatusUnauthorized)
	deletes(pinned, "4321", http.StatusUnauthorized)
	deletes(pinned, "1234", http.StatusOK)
	if n := ts.s.Calls(); n != 0 {
		t.Errorf("%d calls left", n)
	}
}

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
