package bridge

import (
	"testing"
	"time"

	"confd/testkit/rtptest"
)

// TestEveryMuteEventSaysByWhom: a mute (or deaf) event says who made it, "api" for a change
// through Room.Update as "self" for *6 and "mute-all" for mute-all; the API's were the only
// ones without.
func TestEveryMuteEventSaysByWhom(t *testing.T) {
	b := New(Config{})
	defer b.Close()
	sub := b.Bus().Subscribe("r", 16, "")
	defer sub.Close()
	p := mustJoin(t, b, "r", pcmuInfo("ann"), rtptest.NopLeg{})
	room, _ := b.Room("r")
	yes := true
	if _, err := room.Update(p.ID(), Change{Muted: &yes, Deaf: &yes}); err != nil {
		t.Fatal(err)
	}
	for seen := 0; seen < 2; {
		select {
		case e := <-sub.C:
			if e.Type != EventMute {
				continue
			}
			seen++
			if e.Data["by"] != "api" {
				t.Errorf("mute event %v: by %v, want api", e.Data, e.Data["by"])
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no mute events")
		}
	}
}
