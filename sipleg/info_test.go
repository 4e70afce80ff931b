package sipleg

import (
	"testing"

	"confd/bridge"
)

// TestCensusOnlyFromACascade: a census INFO (bridge/census.go) in an ordinary call's dialog is
// answered 415 and changes nothing; only a cascade leg's dialog takes it.
func TestCensusOnlyFromACascade(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, map[string]bridge.RoomSettings{"4242": {WaitForModerator: true}})
	p := dialRawPhone(t, ts, "4242", 700)
	if code := p.d.infoBody(CensusContentType, `{"people":5,"moderators":5}`); code != 415 {
		t.Errorf("a census INFO from a phone answered %d, want 415", code)
	}
	st, err := ts.bridge.RoomState("4242")
	if err != nil || len(st.Participants) != 1 || !st.Participants[0].Waiting {
		t.Errorf("after a phone's census INFO: %+v, %v; want the phone still waiting for a moderator", st.Participants, err)
	}
}
