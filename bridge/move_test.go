package bridge

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"confd/codec"
	"confd/testkit"
	"confd/testkit/audiotest"
)

// simPhone is a participant whose test sends it a tone as PCMU RTP, one packet per frame, and
// whose leg keeps what the room sent it with the due time of the tick that sent it.
type simPhone struct {
	*testPhone
	leg *dueLeg
}

// pcmuInfo is a SIP participant on PCMU.
func pcmuInfo(name string) ParticipantInfo { return sipInfo(name, codec.PCMU, 0) }

// joinSim joins a PCMU participant sending a tone at hz to room.
func joinSim(t *testing.T, b *Bridge, room, name string, hz float64) *simPhone {
	t.Helper()
	return joinSimInfo(t, b, room, pcmuInfo(name), hz)
}

// joinSimInfo is joinSim with the participant's info (a PCMU one, pcmuInfo).
func joinSimInfo(t *testing.T, b *Bridge, room string, info ParticipantInfo, hz float64) *simPhone {
	t.Helper()
	leg := &dueLeg{}
	tone := audiotest.NewTone(hz, 0.15, codec.SampleRate)
	return &simPhone{joinTestPhoneInfo(t, b, room, info, codec.Format{Codec: codec.PCMU}, 0, uint32(hz), tone.Fill, leg), leg}
}

// heardFrom decodes what the phone was sent by ticks due at or after from (and before to).
func (s *simPhone) heardFrom(t *testing.T, from, to time.Time) []int16 {
	t.Helper()
	dec, _ := codec.NewDecoder(codec.PCMU)
	var out []int16
	pcm := make([]int16, codec.MaxPacketSamples)
	var p rtp.Packet
	for i, raw := range s.leg.packets {
		if err := p.Unmarshal(raw); err != nil {
			t.Fatal(err)
		}
		n, _ := dec.Decode(p.Payload, pcm)
		if d := s.leg.dues[i]; !d.Before(from) && d.Before(to) {
			out = append(out, pcm[:n]...)
		}
	}
	return out
}

// world runs rooms by hand (the test is every room's owner): each room ticks every frame at
// its own phase, and every phone sends a frame per tick.
type world struct {
	t      *testing.T
	b      *Bridge
	now    time.Time
	phones []*simPhone
	rooms  map[string]time.Duration // each room's phase
}

func newWorld(t *testing.T, cfg Config) *world {
	b := New(cfg)
	b.noClock = true
	return &world{t: t, b: b, now: time.Unix(1000, 0), rooms: map[string]time.Duration{}}
}

// run advances the world by n frames.
func (w *world) run(n int) {
	for range n {
		for _, s := range w.phones {
			if !s.p.left.Load() {
				s.push(w.t, w.now)
			}
		}
		for name, phase := range w.rooms {
			if r, ok := w.b.Room(name); ok && len(r.Participants()) > 0 {
				due := w.now.Add(phase)
				r.between()
				r.now = due
				r.tick(due)
				for _, s := range w.phones {
					if s.p.Room() == r {
						s.leg.stamp(due)
					}
				}
			}
		}
		w.now = w.now.Add(codec.FrameDuration)
	}
}

func (w *world) join(room, name string, hz float64) *simPhone {
	if _, ok := w.rooms[room]; !ok {
		w.rooms[room] = time.Duration(len(w.rooms)*7) * time.Millisecond
	}
	s := joinSim(w.t, w.b, room, name, hz)
	w.phones = append(w.phones, s)
	return s
}

// level is the level of hz in what s heard in the second before at (from ticks before it).
func level(t *testing.T, s *simPhone, from, to time.Time, hz float64) float64 {
	return audiotest.ToneLevel(s.heardFrom(t, from, to), codec.SampleRate, hz)
}

// TestMoveHearsAndIsHeardInTheOtherRoom: Ada, in "main" with Bob, is moved to "breakout" where
// Cy is. Before, Bob hears Ada and Cy does not; after, Cy hears Ada and Bob does not, and Ada
// hears Cy instead of Bob, from the next tick. Her stream goes on: the same SSRC, sequence
// numbers one apart, timestamps in step with the ticks' due times across the two rooms'
// clocks, and her muted/deaf state and role come with her. The leave and join events say
// "moved".
func TestMoveHearsAndIsHeardInTheOtherRoom(t *testing.T) {
	w := newWorld(t, Config{})
	ada := w.join("main", "Ada", 440)
	bob := w.join("main", "Bob", 700)
	cy := w.join("breakout", "Cy", 1000)
	w.run(100)
	events := w.b.Bus().Subscribe("", 64, "")
	defer events.Close()
	movedAt := w.now

	st, err := w.b.Move("main", ada.p.ID(), MoveRequest{Room: "breakout"})
	if err != nil {
		t.Fatal(err)
	}
	if st.ID != ada.p.ID() || st.Codec != "PCMU" || st.Muted || st.Role != "normal" {
		t.Errorf("moved state %+v", st)
	}
	if r := ada.p.Room(); r == nil || r.Name() != "breakout" {
		t.Fatalf("Ada's room is %v", r)
	}
	if got := len(w.b.mustState(t, "main").Participants); got != 1 {
		t.Errorf("main has %d participants after the move, want 1", got)
	}
	if got := len(w.b.mustState(t, "breakout").Participants); got != 2 {
		t.Errorf("breakout has %d participants after the move, want 2", got)
	}
	w.run(100)

	before, after := movedAt.Add(-time.Second), movedAt.Add(100*time.Millisecond) // after: past the jitter buffers
	end := w.now
	checks := []struct {
		who      *simPhone
		hz       float64
		from, to time.Time
		heard    bool
		what     string
	}{
		{bob, 440, before, movedAt, true, "Bob hears Ada before"},
		{cy, 440, before, movedAt, false, "Cy does not hear Ada before"},
		{ada, 700, before, movedAt, true, "Ada hears Bob before"},
		{bob, 440, after, end, false, "Bob does not hear Ada after"},
		{cy, 440, after, end, true, "Cy hears Ada after"},
		{ada, 1000, after, end, true, "Ada hears Cy after"},
		{ada, 700, after, end, false, "Ada does not hear Bob after"},
	}
	for _, c := range checks {
		l := level(t, c.who, c.from, c.to, c.hz)
		if c.heard && l < -30 || !c.heard && l > -50 {
			t.Errorf("%s: %.0f Hz at %.1f dBFS", c.what, c.hz, l)
		}
	}
	// Ada hears the other room from the next tick: the first packet of breakout's first tick
	// after the move carries Cy (PCMU has no encoder delay).
	if first := ada.heardFrom(t, movedAt, movedAt.Add(codec.FrameDuration+time.Millisecond*8)); audiotest.ToneLevel(first, codec.SampleRate, 1000) < -30 {
		t.Errorf("Ada's first packet after the move: Cy at %.1f dBFS", audiotest.ToneLevel(first, codec.SampleRate, 1000))
	}

	var prev rtp.Header
	for i, raw := range ada.leg.packets {
		var h rtp.Header
		if _, err := h.Unmarshal(raw); err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			if h.SSRC != prev.SSRC || h.SequenceNumber != prev.SequenceNumber+1 {
				t.Errorf("packet %d: SSRC %x seq %d after SSRC %x seq %d", i, h.SSRC, h.SequenceNumber, prev.SSRC, prev.SequenceNumber)
			}
			gap := ada.leg.dues[i].Sub(ada.leg.dues[i-1])
			frames := uint32((gap + codec.FrameDuration/2) / codec.FrameDuration)
			if got := h.Timestamp - prev.Timestamp; got != 160*max(frames, 1) {
				t.Errorf("packet %d: timestamp moved %d after %v between ticks, want %d", i, got, gap, 160*max(frames, 1))
			}
		}
		prev = h
	}

	var got []string
	for len(events.C) > 0 {
		e := <-events.C
		if e.Type == EventJoin || e.Type == EventLeave {
			got = append(got, string(e.Type)+" "+e.Room+" "+e.Data["reason"].(string))
		}
	}
	if len(got) != 2 || got[0] != "leave main moved" || got[1] != "join breakout moved" {
		t.Errorf("events %q, want a leave from main and a join to breakout, both moved", got)
	}
}

// mustState is RoomState or the test's end.
func (b *Bridge) mustState(t *testing.T, room string) RoomState {
	t.Helper()
	st, err := b.RoomState(room)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestMoveKeepsMuteDeafAndRoleAndSkipsLostTime: a muted, deaf monitor stays one, and a move
// whose new room ticks only several frames later moves the RTP timestamp on by the frames
// that passed.
func TestMoveKeepsMuteDeafAndRoleAndSkipsLostTime(t *testing.T) {
	w := newWorld(t, Config{})
	ada := w.join("one", "Ada", 440)
	w.join("one", "Bob", 700)
	w.join("two", "Cy", 1000)
	w.run(20)
	r, _ := w.b.Room("one")
	muted, deaf, monitor := true, true, "monitor"
	if _, err := r.Update(ada.p.ID(), Change{Muted: &muted, Deaf: &deaf, Role: &monitor}); err != nil {
		t.Fatal(err)
	}
	w.run(5)
	st, err := w.b.Move("one", ada.p.ID(), MoveRequest{Room: "two"})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Muted || !st.Deaf || st.Role != "monitor" {
		t.Errorf("after the move: %+v, want muted, deaf, monitor", st)
	}
	// Room two's owner is slow: five frames pass before its next tick.
	w.now = w.now.Add(5 * codec.FrameDuration)
	w.run(5)
	n := len(ada.leg.packets)
	var h1, h2 rtp.Header
	for i := 1; i < n; i++ {
		_, _ = h1.Unmarshal(ada.leg.packets[i-1])
		_, _ = h2.Unmarshal(ada.leg.packets[i])
		gap := ada.leg.dues[i].Sub(ada.leg.dues[i-1])
		want := uint32((gap+codec.FrameDuration/2)/codec.FrameDuration) * 160
		if got := h2.Timestamp - h1.Timestamp; got != want {
			t.Errorf("packet %d: timestamp moved %d over %v, want %d", i, got, gap, want)
		}
	}
}

// TestMoveRefusals: a locked room (403), a full one (409), a wrong PIN (403), a coach (400), an
// unknown participant or source room (404) and a bad room name (400) are refused, and the
// participant stays where it was, still mixed.
func TestMoveRefusals(t *testing.T) {
	w := newWorld(t, Config{Rooms: map[string]RoomSettings{
		"locked": {Locked: true},
		"full":   {Limit: 1},
		"pin":    {PIN: "1234", ModeratorPIN: "9999"},
	}})
	ada := w.join("main", "Ada", 440)
	bob := w.join("main", "Bob", 700)
	w.join("full", "Cy", 1000)
	w.run(10)
	coach, target := "coach", bob.p.ID()
	r, _ := w.b.Room("main")
	for _, c := range []struct {
		from, id string
		req      MoveRequest
		want     error
		http     int
		prepare  func()
	}{
		{"main", ada.p.ID(), MoveRequest{Room: "locked"}, ErrRoomLocked, 403, nil},
		{"main", ada.p.ID(), MoveRequest{Room: "full"}, ErrRoomFull, 409, nil},
		{"main", ada.p.ID(), MoveRequest{Room: "pin", PIN: "1111"}, ErrWrongPIN, 403, nil},
		{"main", ada.p.ID(), MoveRequest{Room: "bad name!"}, ErrBadRoomName, 400, nil},
		{"main", "nobody", MoveRequest{Room: "other"}, ErrNoParticipant, 404, nil},
		{"nowhere", ada.p.ID(), MoveRequest{Room: "other"}, ErrNoRoom, 404, nil},
		{"main", ada.p.ID(), MoveRequest{Room: "other"}, ErrBadSetting, 400, func() {
			if _, err := r.Update(ada.p.ID(), Change{Role: &coach, Target: &target}); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		if c.prepare != nil {
			c.prepare()
		}
		_, err := w.b.Move(c.from, c.id, c.req)
		if !errors.Is(err, c.want) {
			t.Errorf("move %s/%s to %q: %v, want %v", c.from, c.id, c.req.Room, err, c.want)
			continue
		}
		if st, _ := StatusOf(err); st.HTTP != c.http {
			t.Errorf("move to %q: HTTP %d, want %d", c.req.Room, st.HTTP, c.http)
		}
	}
	if ada.p.Room().Name() != "main" || len(w.b.mustState(t, "main").Participants) != 2 {
		t.Errorf("after refused moves Ada is in %q, main has %d", ada.p.Room().Name(), len(w.b.mustState(t, "main").Participants))
	}
	if _, ok := w.b.Room("other"); ok {
		t.Error("a refused move left the room it would have made")
	}
	from := w.now
	w.run(50)
	if l := level(t, ada, from.Add(200*time.Millisecond), w.now, 700); l < -30 {
		t.Errorf("Ada hears Bob at %.1f dBFS after the refused moves", l)
	}
}

// TestMoveToSameNewAndPINRooms: a move to the room the participant is in changes nothing and
// publishes nothing; a move to a room that does not exist makes it (room_started, then the
// join), as a call to it would; the right PIN is taken, and the moderator PIN makes a moderator.
func TestMoveToSameNewAndPINRooms(t *testing.T) {
	w := newWorld(t, Config{Rooms: map[string]RoomSettings{"pin": {PIN: "1234", ModeratorPIN: "9999"}}})
	ada := w.join("main", "Ada", 440)
	w.join("main", "Bob", 700)
	w.run(5)
	events := w.b.Bus().Subscribe("", 64, "")
	defer events.Close()
	if _, err := w.b.Move("main", ada.p.ID(), MoveRequest{Room: "main"}); err != nil {
		t.Fatal(err)
	}
	if n := len(events.C); n != 0 {
		t.Errorf("a move to the same room published %d events", n)
	}
	if _, err := w.b.Move("main", ada.p.ID(), MoveRequest{Room: "fresh"}); err != nil {
		t.Fatal(err)
	}
	var types []EventType
	for len(events.C) > 0 {
		types = append(types, (<-events.C).Type)
	}
	if len(types) != 3 || types[0] != EventLeave || types[1] != EventRoomStarted || types[2] != EventJoin {
		t.Errorf("events %v, want leave, room_started, join", types)
	}
	w.rooms["fresh"] = 3 * time.Millisecond
	w.run(5)
	if st, err := w.b.Move("fresh", ada.p.ID(), MoveRequest{Room: "pin", PIN: "1234"}); err != nil || st.Moderator {
		t.Errorf("move with the PIN: %+v, %v", st, err)
	}
	w.rooms["pin"] = 5 * time.Millisecond
	w.run(1)
	if st, err := w.b.Move("pin", ada.p.ID(), MoveRequest{Room: "main", PIN: "4321"}); err != nil {
		t.Errorf("move to a room without a PIN, with one: %+v, %v", st, err)
	}
	if st, err := w.b.Move("main", ada.p.ID(), MoveRequest{Room: "pin", PIN: "9999"}); err != nil || !st.Moderator {
		t.Errorf("move with the moderator PIN: %+v, %v", st, err)
	}
}

// TestLeaveRacingAMoveFollowsTheParticipant: a participant that leaves while it is being moved
// leaves the room it ends up in, and no room keeps it.
func TestLeaveRacingAMoveFollowsTheParticipant(t *testing.T) {
	b := New(Config{})
	a := mustJoin(t, b, "a", pcmuInfo("A"), &fakeLeg{})
	mustJoin(t, b, "b", pcmuInfo("B"), &fakeLeg{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			to := "b"
			if a.Room().Name() == "b" {
				to = "a"
			}
			if _, err := b.Move(a.Room().Name(), a.ID(), MoveRequest{Room: to}); err != nil {
				return
			}
		}
	}()
	time.Sleep(5 * time.Millisecond)
	a.Leave("bye")
	<-done
	for _, name := range []string{"a", "b"} {
		if st, err := b.RoomState(name); err == nil {
			for _, p := range st.Participants {
				if p.ID == a.ID() {
					t.Errorf("room %s still has A after it left", name)
				}
			}
		}
	}
	b.Close()
}

// TestMoveTakesTheNewRoomsPreprocessing: noise suppression is a room's setting (unless the
// participant chose for itself): moved from a room that denoises to one that does not, a
// participant is no longer denoised, and moved back it is again.
func TestMoveTakesTheNewRoomsPreprocessing(t *testing.T) {
	w := newWorld(t, Config{Rooms: map[string]RoomSettings{"quiet": {Denoise: true}}})
	ada := w.join("quiet", "Ada", 440)
	w.join("quiet", "Bob", 700)
	w.run(5)
	if !ada.p.State().Denoise {
		t.Fatal("not denoised in a room that denoises")
	}
	if st, err := w.b.Move("quiet", ada.p.ID(), MoveRequest{Room: "plain"}); err != nil || st.Denoise {
		t.Errorf("moved to a room that does not denoise: %+v, %v", st, err)
	}
	if st, err := w.b.Move("plain", ada.p.ID(), MoveRequest{Room: "quiet"}); err != nil || !st.Denoise {
		t.Errorf("moved back: %+v, %v", st, err)
	}
}

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
