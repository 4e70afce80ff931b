package bridge

import (
	"errors"
	"sync"
	"testing"
	"time"

	"confd/codec"
	"confd/testkit"
)

// fakeSeats is, for a room owned elsewhere, an owner with room for free more people, and for a
// room owned here, elsewhere people on other nodes; it records reservations and their ends.
type fakeSeats struct {
	mu        sync.Mutex
	free      int
	elsewhere int
	taken     []string
	released  []bool
}

func (f *fakeSeats) set(free, elsewhere int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.free, f.elsewhere = free, elsewhere
}

func (f *fakeSeats) Elsewhere(string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.elsewhere
}

func (f *fakeSeats) Full(string, int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.free <= 0
}

func (f *fakeSeats) Take(room string, _ int) (func(bool), error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.free <= 0 {
		return nil, ErrRoomFull
	}
	f.free--
	f.taken = append(f.taken, room)
	return func(joined bool) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.released = append(f.released, joined)
		if !joined {
			f.free++
		}
	}, nil
}

// TestRoomLimitCountsPeopleOnOtherNodes: in a cluster a room's limit is the room's. Where
// another node owns the room, a person is admitted only with a seat from it, and refused as a
// full room (ErrRoomFull) when it has none, both before answering (Admit) and at the join; a
// cascade leg and confd's own player take no seat. Where this node owns the room, the people
// other nodes hold count towards the limit: for Admit, the join and a move.
func TestRoomLimitCountsPeopleOnOtherNodes(t *testing.T) {
	seats := &fakeSeats{free: 1}
	b := New(Config{Rooms: map[string]RoomSettings{"r": {Limit: 5}, "mine": {Limit: 2}}})
	b.SetSeats(seats)
	defer b.Close()
	info := func(name string) ParticipantInfo {
		return ParticipantInfo{Name: name, Kind: "sip", Output: codec.Format{Codec: codec.PCMU}}
	}
	mustJoin(t, b, "r", info("Ada"), &fakeLeg{})
	if _, err := b.Admit("r"); !errors.Is(err, ErrRoomFull) {
		t.Errorf("Admit with the owner's seats gone: %v, want ErrRoomFull", err)
	}
	if _, err := b.Join("r", info("Bob"), &fakeLeg{}); !errors.Is(err, ErrRoomFull) {
		t.Errorf("Bob joins with the owner's seats gone: %v, want ErrRoomFull", err)
	}
	cascade := info("cascade to b")
	cascade.Kind, cascade.Cascade = "cascade", "b"
	mustJoin(t, b, "r", cascade, &fakeLeg{})
	mustJoin(t, b, "r", ParticipantInfo{Name: "player", Kind: "player"}, &fakeLeg{})
	if len(seats.taken) != 1 || len(seats.released) != 1 || !seats.released[0] {
		t.Errorf("seats taken %q, released (joined) %v; want Ada's only, released once she was in", seats.taken, seats.released)
	}

	seats.set(10, 1) // one person on another node in "mine", owned here
	mustJoin(t, b, "mine", info("Cy"), &fakeLeg{})
	if _, err := b.Admit("mine"); !errors.Is(err, ErrRoomFull) {
		t.Errorf("Admit with Cy here and one person on another node, limit 2: %v, want ErrRoomFull", err)
	}
	room, _ := b.Room("mine")
	p, err := room.joinWith(info("Dan"), &fakeLeg{}, nil) // past Admit: the room's own check
	if !errors.Is(err, ErrRoomFull) {
		t.Errorf("Dan enters the full room past Admit: %v, %v; want ErrRoomFull", p, err)
	}
	eve := mustJoin(t, b, "other", info("Eve"), &fakeLeg{})
	if _, err := b.Move("other", eve.ID(), MoveRequest{Room: "mine"}); !errors.Is(err, ErrRoomFull) {
		t.Errorf("Eve moved into the full room: %v, want ErrRoomFull", err)
	}
	seats.set(10, 0)
	if _, err := b.Move("other", eve.ID(), MoveRequest{Room: "mine"}); err != nil {
		t.Errorf("Eve moved once the other node's person left: %v", err)
	}
}

// TestCascadeStateShowsThePeopleBehindIt: a cascade leg's state says how many people its other
// end reported behind it (the census), so the owner's roster counts every node's people; a
// person's says nothing.
func TestCascadeStateShowsThePeopleBehindIt(t *testing.T) {
	b := New(Config{})
	defer b.Close()
	info := ParticipantInfo{Name: "Ada", Kind: "sip", Output: codec.Format{Codec: codec.PCMU}}
	mustJoin(t, b, "r", info, &fakeLeg{})
	info.Name, info.Kind, info.Cascade = "cascade b", "cascade", "b"
	leg := mustJoin(t, b, "r", info, &censusFakeLeg{})
	leg.SetCensus(Census{People: 3, Moderators: 1})
	ok := testkit.WaitFor(5*time.Second, func() bool {
		for _, p := range b.mustState(t, "r").Participants {
			if p.Cascade && p.People == 3 {
				return true
			}
		}
		return false
	})
	if !ok {
		t.Errorf("the roster %+v: want the cascade leg with 3 people behind it", b.mustState(t, "r").Participants)
	}
	for _, p := range b.mustState(t, "r").Participants {
		if !p.Cascade && p.People != 0 {
			t.Errorf("%s, a person, shows %d people behind it", p.Name, p.People)
		}
	}
}
