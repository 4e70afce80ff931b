package webrtcleg

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"confd/bridge"
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
