package bridge

import (
	"testing"

	"confd/codec"
	"confd/testkit/rtptest"
)

// TestInternalParticipantsDoNotFillARoom: a room's limit counts people only: a recorder or a
// forwarder in it neither takes a person's place nor is refused by a full room.
func TestInternalParticipantsDoNotFillARoom(t *testing.T) {
	b := New(Config{Rooms: map[string]RoomSettings{"r": {Limit: 2}}})
	defer b.Close()
	pcmu := codec.Format{Codec: codec.PCMU}
	join := func(kind string) (*Participant, error) {
		return b.Join("r", ParticipantInfo{Name: kind, Kind: kind, Output: pcmu}, rtptest.NopLeg{})
	}
	if _, err := join("sip"); err != nil {
		t.Fatal(err)
	}
	if _, err := join("recorder"); err != nil {
		t.Fatalf("a recorder in a room with a free place: %v", err)
	}
	if _, err := b.JoinForwarder("r", "", pcmu, 0, rtptest.NopLeg{}); err != nil {
		t.Fatalf("a forwarder: %v", err)
	}
	if _, err := join("sip"); err != nil {
		t.Fatalf("the second person of a room of 2 with a recorder and a forwarder: %v", err)
	}
	if _, err := join("sip"); err == nil {
		t.Fatal("a third person joined a room of 2")
	}
	if _, err := b.JoinForwarder("r", "", pcmu, 0, rtptest.NopLeg{}); err != nil {
		t.Fatalf("a forwarder in a full room: %v", err)
	}
	if st, _ := b.RoomState("r"); len(st.Participants) != 2 {
		t.Errorf("the room lists %d participants, want its 2 people", len(st.Participants))
	}
}
