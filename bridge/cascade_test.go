package bridge

import (
	"errors"
	"testing"

	"confd/codec"
	"confd/jitter"
)

// TestCascadeLegIsNotAPerson: a cascade leg from node b in a room limited to one person takes
// no place (the person still joins, the second is refused), is announced by "cascade" events
// and never by a join or a leave, shows in the roster marked with its node, is not counted
// among the room's people, and is spared by mute-all, which would silence everyone on b.
func TestCascadeLegIsNotAPerson(t *testing.T) {
	b := New(Config{})
	defer b.Close()
	if err := b.Declare("r", RoomSettings{Limit: 1}); err != nil {
		t.Fatal(err)
	}
	events := b.Bus().Subscribe("r", 100, "")
	defer events.Close()
	in := []jitter.PayloadType{{Type: 0, Codec: codec.PCMU}}
	out := codec.Format{Codec: codec.PCMU}
	leg := mustJoin(t, b, "r", ParticipantInfo{Name: "cascade b", Kind: "cascade", Cascade: "b", Output: out, Input: in}, &fakeLeg{})
	ada, err := b.Join("r", ParticipantInfo{Name: "Ada", Kind: "sip", Output: out, Input: in}, &fakeLeg{})
	if err != nil {
		t.Fatalf("Ada, the first person, refused beside a cascade leg: %v", err)
	}
	if _, err := b.Join("r", ParticipantInfo{Name: "Bob", Kind: "sip", Output: out, Input: in}, &fakeLeg{}); !errors.Is(err, ErrRoomFull) {
		t.Errorf("Bob, the second person in a room limited to one: %v, want ErrRoomFull", err)
	}
	if _, err := b.Join("r", ParticipantInfo{Name: "cascade c", Kind: "cascade", Cascade: "c", Output: out, Input: in}, &fakeLeg{}); err != nil {
		t.Errorf("a cascade leg into a full room: %v, want it let in", err)
	}
	room, _ := b.Room("r")
	for _, s := range b.Rooms() {
		if s.Room == "r" && s.Participants != 1 {
			t.Errorf("room summary counts %d participants, want 1 person", s.Participants)
		}
	}
	for _, p := range room.State().Participants {
		if want := p.Name != "Ada"; p.Cascade != want || (want && p.Node == "") {
			t.Errorf("%s listed with cascade %v node %q", p.Name, p.Cascade, p.Node)
		}
	}
	if n := room.MuteAll(); n != 1 {
		t.Errorf("mute-all muted %d, want Ada alone", n)
	}
	if st := leg.State(); st.Muted {
		t.Error("mute-all muted the cascade leg")
	}
	leg.Leave("bye")
	ada.Leave("bye")
	var joins, cascades []Event
	for len(events.C) > 0 {
		e := <-events.C
		switch e.Type {
		case EventJoin, EventLeave:
			joins = append(joins, e)
		case EventCascade:
			cascades = append(cascades, e)
		}
	}
	for _, e := range joins {
		if e.Participant != ada.ID() {
			t.Errorf("a %s event for a cascade leg: %+v", e.Type, e)
		}
	}
	if len(joins) != 2 || len(cascades) != 3 || cascades[0].Data["node"] != "b" || cascades[0].Data["state"] != "joined" ||
		cascades[2].Data["state"] != "left" {
		t.Errorf("events: joins and leaves %+v, cascade %+v; want Ada's two and the legs' three", joins, cascades)
	}
}
