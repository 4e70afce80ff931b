package sipleg

import (
	"fmt"
	"testing"
	"time"

	"confd/bridge"
	"confd/testkit"
)

// TestReInviteRacingMoves (red team, issue 13): a phone that re-INVITEs (hold, unhold, a new
// codec) while the API moves it between rooms, both at once and many times over, ends up in
// exactly one room — the last it was moved to — with the state its last re-INVITE asked for,
// and its BYE takes it out of that room: a change that reached the old room's owner too late
// is passed on, never applied to a room it left or lost.
func TestReInviteRacingMoves(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, nil)
	p := dialRawPhone(t, ts, "main", 700)
	defer p.close()
	waitParticipants(t, ts, "main", 1)
	r, _ := ts.bridge.Room("main")
	id := r.Participants()[0].ID()

	where := "main"
	for i := range 20 {
		to := []string{"breakout", "main"}[i%2]
		done := make(chan error, 1)
		go func() {
			_, err := ts.bridge.Move(where, id, bridge.MoveRequest{Room: to})
			done <- err
		}()
		p.reinvite([]string{"sendonly", "sendrecv"}[i%2])
		if err := <-done; err != nil {
			t.Fatalf("move %d %s→%s: %v", i, where, to, err)
		}
		where = to
	}
	// The last re-INVITE (i = 19) was sendrecv; the last move was to "main".
	check := func() error {
		for _, name := range []string{"main", "breakout"} {
			st, err := ts.bridge.RoomState(name)
			n := 0
			if err == nil {
				for _, q := range st.Participants {
					if q.ID == id {
						n++
						if q.OnHold {
							return fmt.Errorf("on hold in %s after unhold", name)
						}
					}
				}
			}
			if want := map[bool]int{true: 1, false: 0}[name == where]; n != want {
				return fmt.Errorf("%s lists the phone %d times, want %d", name, n, want)
			}
		}
		return nil
	}
	var last error
	if !testkit.WaitFor(5*time.Second, func() bool { last = check(); return last == nil }) {
		t.Fatal(last)
	}
	p.d.bye()
	testkit.Eventually(t, 5*time.Second, func() bool { return participants(ts, "main")+participants(ts, "breakout") == 0 })
	waitIdle(t, ts)
}
