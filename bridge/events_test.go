package bridge

import "testing"

func TestBusDeliversInOrderAndFiltersByRoom(t *testing.T) {
	b := NewBus()
	all := b.Subscribe("", 10, 0)
	red := b.Subscribe("red", 10, 0)
	defer all.Close()
	defer red.Close()
	b.Publish(Event{Type: EventJoin, Room: "red", Participant: "1"})
	b.Publish(Event{Type: EventJoin, Room: "blue", Participant: "2"})
	b.Publish(Event{Type: EventLeave, Room: "red", Participant: "1"})
	var ids []uint64
	for i := 0; i < 3; i++ {
		ids = append(ids, (<-all.C).ID)
	}
	if ids[0] != 1 || ids[1] != 2 || ids[2] != 3 {
		t.Errorf("all-rooms ids %v, want 1 2 3", ids)
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
	stuck := b.Subscribe("", 2, 0)
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
	for i := 0; i < 5; i++ {
		b.Publish(Event{Type: EventDTMF, Room: "r"})
	}
	s := b.Subscribe("r", 10, 3)
	defer s.Close()
	if e := <-s.C; e.ID != 4 {
		t.Errorf("first replayed id %d, want 4", e.ID)
	}
	if e := <-s.C; e.ID != 5 {
		t.Errorf("second replayed id %d, want 5", e.ID)
	}
	s.Close()
	s.Close()
	b.Publish(Event{Type: EventDTMF, Room: "r"}) // no panic on a closed subscriber
}
