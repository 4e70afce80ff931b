package bridge

import (
	"errors"
	"testing"

	"confd/codec"
)

// TestRunningRoom (review finding 4): the one lookup of a room to act on its people answers a
// bad name ErrBadRoomName (HTTP 400), a room nobody is in ErrNoRoom (HTTP 404) whether it is
// declared or not, and a room with people the room.
func TestRunningRoom(t *testing.T) {
	b := New(Config{Rooms: map[string]RoomSettings{"declared": {}}})
	defer b.Close()
	p, err := b.Join("live", ParticipantInfo{Name: "ann", Kind: "sip", Output: codec.Format{Codec: codec.PCMU}}, &fakeLeg{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Leave("bye")
	for name, want := range map[string]error{"bad.name": ErrBadRoomName, "declared": ErrNoRoom, "nobody": ErrNoRoom} {
		r, err := b.RunningRoom(name)
		if r != nil || !errors.Is(err, want) {
			t.Errorf("RunningRoom(%q) = %v, %v; want %v", name, r, err, want)
		}
	}
	if r, err := b.RunningRoom("live"); err != nil || r == nil {
		t.Errorf("RunningRoom(live) = %v, %v", r, err)
	}
	for err, http := range map[error]int{ErrAlreadyRunning: 409, ErrNotRunning: 404} {
		if st, ok := StatusOf(err); !ok || st.HTTP != http || st.Reason == "" {
			t.Errorf("StatusOf(%v) = %+v, %v; want HTTP %d and a reason", err, st, ok, http)
		}
	}
}
