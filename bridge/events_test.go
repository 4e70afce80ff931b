package bridge

import "testing"

func TestBusDeliversInOrderAndFiltersByRoom(t *testing.T) {
	b := NewBus()
	all := b.Subscribe("", 10, "")
	red := b.Subscribe("red", 10, "")
	defer all.Close()
	defer red.Close()
	b.Publish(Event{Type: EventJoin, Room: "red", Participant: "1"})
	b.Publish(Event{Type: EventJoin, Room: "blue", Participant: "2"})
	b.Publish(Event{Type: EventLeave, Room: "red", Participant: "1"})
	var ids []string
	for i := 0; i < 3; i++ {
		ids = append(ids, (<-all.C).ID)
	}
	if !(ids[0] < ids[1] && ids[1] < ids[2]) || !ValidID(ids[0]) {
		t.Errorf("all-rooms ids %v, want three increasing ids", ids)
	}
	if e := <-red.C; e.Type != EventJoin || e.Room != "red" {
		t.Errorf("first red event %+v", e)
	}
	if e := <-red.C; e.Type != EventLeave {
		t.Errorf("second red event %+v", e)
	}
	if len(red.C) != 0 {
		t.Error("blue event reached the red subscriber")
	}
}

func TestBusNeverBlocksOnAStuckSubscriber(t *testing.T) {
	b := NewBus()
	stuck := b.Subscribe("", 2, "")
	defer stuck.Close()
	for i := 0; i < 100; i++ {
		b.Publish(Event{Type: EventTalking, Room: "r"})
	}
	if stuck.Dropped() != 98 {
		t.Errorf("dropped %d, want 98", stuck.Dropped())
	}
}

func TestBusReplaysHistoryAfterAnID(t *testing.T) {
	b := NewBus()
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, b.Publish(Event{Type: EventDTMF, Room: "r"}).ID)
	}
	s := b.Subscribe("r", 10, ids[2])
	defer s.Close()
	if e := <-s.C; e.ID != ids[3] {
		t.Errorf("first replayed id %s, want the 4th, %s", e.ID, ids[3])
	}
	if e := <-s.C; e.ID != ids[4] {
		t.Errorf("second replayed id %s, want the 5th, %s", e.ID, ids[4])
	}
	if len(s.C) != 0 {
		t.Errorf("%d more replayed", len(s.C))
	}
	for _, bad := range []string{"3", "", "not-an-id"} {
		if s := b.Subscribe("r", 10, bad); len(s.C) != 0 {
			t.Errorf("Last-Event-ID %q replayed %d events, want none", bad, len(s.C))
		}
	}
	s.Close()
	s.Close()
	b.Publish(Event{Type: EventDTMF, Room: "r"}) // no panic on a closed subscriber
}
