package bridge

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"confd/testkit"
)

// TestConcurrentMovesJoinsLeavesAndChanges (red team, issue 13), for the race detector: with
// the rooms' own clocks running, participants are moved between three rooms from several
// goroutines at once while others join, leave, are muted, panned and made moderators, and a
// room is locked and unlocked. A room's limit holds whoever enters (a join or a move), a
// locked room takes no one, a participant is in exactly one room's roster (the one it
// points at) or, once it left, in none, and nothing deadlocks.
func TestConcurrentMovesJoinsLeavesAndChanges(t *testing.T) {
	b := New(Config{Rooms: map[string]RoomSettings{"small": {Limit: 3}, "closed": {Locked: true}}})
	defer b.Close()
	var (
		mu    sync.Mutex
		parts []*Participant
	)
	for i := range 12 {
		p := mustJoin(t, b, []string{"a", "b"}[i%2], pcmuInfo(fmt.Sprint("p", i)), &fakeLeg{})
		parts = append(parts, p)
	}
	pick := func(r *rand.Rand) *Participant {
		mu.Lock()
		defer mu.Unlock()
		return parts[r.IntN(len(parts))]
	}
	rooms := []string{"a", "b", "small", "closed"}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	worker := func(seed uint64, f func(r *rand.Rand)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, seed))
			for {
				select {
				case <-stop:
					return
				default:
				}
				f(r)
			}
		}()
	}
	for i := range 4 {
		worker(uint64(i), func(r *rand.Rand) {
			p := pick(r)
			from := p.Room()
			if from == nil {
				return
			}
			to := rooms[r.IntN(len(rooms))]
			_, err := b.Move(from.Name(), p.ID(), MoveRequest{Room: to})
			switch {
			case err == nil && to == "closed":
				errs <- fmt.Errorf("moved %s into the locked room", p.ID())
			case err == nil, errors.Is(err, ErrRoomFull), errors.Is(err, ErrRoomLocked), errors.Is(err, ErrNoParticipant), errors.Is(err, ErrNoRoom):
			default:
				errs <- fmt.Errorf("move %s %s→%s: %w", p.ID(), from.Name(), to, err)
			}
		})
	}
	worker(10, func(r *rand.Rand) { // joins and leaves
		p, err := b.Join(rooms[r.IntN(3)], pcmuInfo("late"), &fakeLeg{})
		if err == nil {
			mu.Lock()
			parts = append(parts, p)
			mu.Unlock()
		}
		if q := pick(r); r.IntN(4) == 0 {
			q.Leave("bye")
		}
		time.Sleep(time.Millisecond)
	})
	worker(11, func(r *rand.Rand) { // changes
		p := pick(r)
		if room := p.Room(); room != nil {
			muted, pan, mod := r.IntN(2) == 0, float32(r.Float64()*2-1), r.IntN(2) == 0
			_, _ = room.Update(p.ID(), Change{Muted: &muted, Pan: &pan, Moderator: &mod})
		}
	})
	worker(12, func(r *rand.Rand) { // the small room locked and unlocked
		_ = b.Declare("small", RoomSettings{Limit: 3, Locked: r.IntN(2) == 0})
		time.Sleep(2 * time.Millisecond)
	})
	worker(13, func(*rand.Rand) { // the limit, seen from outside
		if st, err := b.RoomState("small"); err == nil && len(st.Participants) > 3 {
			errs <- fmt.Errorf("small has %d participants, limit 3", len(st.Participants))
		}
		if st, err := b.RoomState("closed"); err == nil && len(st.Participants) > 0 {
			errs <- fmt.Errorf("the locked room has %d participants", len(st.Participants))
		}
	})
	time.Sleep(2 * time.Second)
	close(stop)
	testkit.ReturnsWithin(t, 20*time.Second, "the workers after the stop (a deadlock)", wg.Wait)
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 5 {
			t.Error(err)
		}
	}

	// Every participant is where it points, once; one that left is nowhere.
	where := map[string][]string{}
	for _, name := range []string{"a", "b", "small", "closed"} {
		if st, err := b.RoomState(name); err == nil {
			for _, p := range st.Participants {
				where[p.ID] = append(where[p.ID], name)
			}
		}
	}
	for _, p := range parts {
		got := where[p.ID()]
		switch {
		case p.left.Load() && len(got) > 0:
			t.Errorf("%s left but is in %v", p.ID(), got)
		case !p.left.Load() && (len(got) != 1 || p.Room() == nil || got[0] != p.Room().Name()):
			t.Errorf("%s is in %v, points at %v", p.ID(), got, p.Room())
		}
	}
}
