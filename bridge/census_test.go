package bridge

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"confd/codec"
	"confd/testkit/audiotest"
)

// censusDueLeg is a world's cascade leg that keeps the census the room sent it.
type censusDueLeg struct {
	dueLeg
	sent []Census
}

func (l *censusDueLeg) SendCensus(c Census) { l.sent = append(l.sent, c) }

// censusFakeLeg is a fakeLeg that keeps the census the room sent it.
type censusFakeLeg struct {
	fakeLeg
	mu   sync.Mutex
	sent []Census
}

func (l *censusFakeLeg) SendCensus(c Census) {
	l.mu.Lock()
	l.sent = append(l.sent, c)
	l.mu.Unlock()
}

func (l *censusFakeLeg) last() Census {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.sent) == 0 {
		return Census{People: -1}
	}
	return l.sent[len(l.sent)-1]
}

// cascadeInfo is a cascade leg's participant from node.
func cascadeInfo(node string) ParticipantInfo {
	info := pcmuInfo("cascade " + node)
	info.Kind, info.Cascade = "cascade", node
	return info
}

// joinCascade joins a cascade leg from node, sending a tone at hz (the voices behind it).
func (w *world) joinCascade(room, node string, hz float64) (*simPhone, *censusDueLeg) {
	if _, ok := w.rooms[room]; !ok {
		w.rooms[room] = time.Duration(len(w.rooms)*7) * time.Millisecond
	}
	leg := &censusDueLeg{}
	tone := audiotest.NewTone(hz, 0.15, codec.SampleRate)
	s := &simPhone{joinTestPhoneInfo(w.t, w.b, room, cascadeInfo(node), codec.Format{Codec: codec.PCMU}, 0, uint32(hz), tone.Fill, leg), &leg.dueLeg}
	w.phones = append(w.phones, s)
	return s, leg
}

// newCascadedMusicWorld is a world whose room plays hold music (a second of musicHz) and has
// settings s besides, with Ada (a 440 Hz tone) joined on this node and node b's cascade leg
// (700 Hz, the voices behind it) in the room.
func newCascadedMusicWorld(t *testing.T, room string, s RoomSettings) (w *world, ada, b *simPhone, bLeg *censusDueLeg) {
	s.HoldMusic = writeWAV(t, 16000, 1, musicHz, 1)
	w = newMusicWorld(t, Config{Rooms: map[string]RoomSettings{room: s}})
	ada = w.join(room, "Ada", 440)
	b, bLeg = w.joinCascade(room, "b", 700)
	return w, ada, b, bLeg
}

// TestCensusCarriesTheModeratorAcrossNodes: in a room that waits for its moderator, Ada (here)
// waits, is not heard and hears the hold music while the moderator is nowhere (node b's people
// wait there, so what the cascade brings is silence); the cascade leg never waits
// and never carries the music (node b plays its own), and is told of one person and no
// moderator here. Once b reports a moderator behind the cascade, Ada stops waiting: she hears
// b's voices and no music, and b hears her.
func TestCensusCarriesTheModeratorAcrossNodes(t *testing.T) {
	w, ada, b, bLeg := newCascadedMusicWorld(t, "webinar", RoomSettings{WaitForModerator: true})
	b.p.SetCensus(Census{People: 1})
	w.run(60)
	from := w.now.Add(-time.Second)
	if l := level(t, ada, from, w.now, musicHz); l < -30 {
		t.Errorf("waiting, Ada hears the music at %.1f dBFS", l)
	}
	if l := level(t, b, from, w.now, 440); l > -50 {
		t.Errorf("waiting, Ada is heard on node b at %.1f dBFS", l)
	}
	if l := level(t, b, from, w.now, musicHz); l > -50 {
		t.Errorf("the cascade leg carries this node's hold music at %.1f dBFS", l)
	}
	for _, p := range w.b.mustState(t, "webinar").Participants {
		if p.Waiting != !p.Cascade {
			t.Errorf("%s shows waiting %v", p.Name, p.Waiting)
		}
	}
	if got := bLeg.sent[len(bLeg.sent)-1]; got != (Census{People: 1}) {
		t.Errorf("node b was told %+v, want one person and no moderator here", got)
	}

	b.p.SetCensus(Census{People: 1, Moderators: 1})
	in := w.now
	w.run(60)
	from = in.Add(200 * time.Millisecond)
	if l := level(t, ada, from, w.now, musicHz); l > -50 {
		t.Errorf("with a moderator on node b, Ada hears the music at %.1f dBFS", l)
	}
	if l := level(t, ada, from, w.now, 700); l < -30 {
		t.Errorf("with a moderator on node b, Ada hears node b at %.1f dBFS", l)
	}
	if l := level(t, b, from, w.now, 440); l < -30 {
		t.Errorf("with a moderator on node b, node b hears Ada at %.1f dBFS", l)
	}
	if got := bLeg.sent[len(bLeg.sent)-1]; got != (Census{People: 1}) {
		t.Errorf("node b was told %+v, want still one person and no moderator here (its own are not sent back)", got)
	}
}

// TestCensusHoldMusicCountsEveryNode: a person alone on this node of a room whose other people
// are on node b does not hear the hold music meant for someone alone in the room.
func TestCensusHoldMusicCountsEveryNode(t *testing.T) {
	w, ada, b, _ := newCascadedMusicWorld(t, "lobby", RoomSettings{})
	b.p.SetCensus(Census{People: 2})
	w.run(60)
	from := w.now.Add(-time.Second)
	if l := level(t, ada, from, w.now, musicHz); l > -50 {
		t.Errorf("with two people on node b, Ada hears the hold music at %.1f dBFS", l)
	}
	if l := level(t, ada, from, w.now, 700); l < -30 {
		t.Errorf("Ada hears node b at %.1f dBFS", l)
	}
}

// TestRoomEndsOnEveryNode: a room that ends with its moderator ends on every node. When node b
// reports its room ending, this node's people hear the prompt and are hung up, and the cascade
// leg is not (it goes when b's people have); when the moderator here leaves, b is told the room
// is ending; when a cascade leg with the last moderator behind it goes (its node died), the
// room ends here.
func TestRoomEndsOnEveryNode(t *testing.T) {
	end := func(t *testing.T, trigger func(b *Bridge, mod *Participant, cascade *Participant, leg *censusFakeLeg)) (*fakeLeg, *censusFakeLeg) {
		b, m := boardEndingWithModerator(t)
		bobLeg, cLeg := &fakeLeg{}, &censusFakeLeg{}
		mustJoin(t, b, "board", pcmuInfo("Bob"), bobLeg)
		c := mustJoin(t, b, "board", cascadeInfo("b"), cLeg)
		c.SetCensus(Census{People: 2, Moderators: 1})
		time.Sleep(time.Second)
		if got := cLeg.last(); got != (Census{People: 2, Moderators: 1}) {
			t.Errorf("node b was told %+v, want Mod and Bob, Mod a moderator", got)
		}
		trigger(b, m, c, cLeg)
		time.Sleep(rehomeGrace + endPrompt().Duration() + time.Second)
		return bobLeg, cLeg
	}
	t.Run("ended on b", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			bob, c := end(t, func(_ *Bridge, _, c *Participant, _ *censusFakeLeg) {
				c.SetCensus(Census{People: 2, Moderators: 0, Ending: true})
			})
			if !strings.Contains(bob.hangup(), "ended") || c.hangup() != "" {
				t.Errorf("Bob hung up %q, the cascade leg %q: want Bob, after the prompt, and not the leg", bob.hangup(), c.hangup())
			}
		})
	})
	t.Run("moderator here left", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			bob, c := end(t, func(_ *Bridge, m, c *Participant, _ *censusFakeLeg) {
				c.SetCensus(Census{People: 2}) // b's moderator went first
				time.Sleep(time.Second)
				m.Leave("bye")
			})
			if got := c.last(); !got.Ending || !strings.Contains(bob.hangup(), "ended") || c.hangup() != "" {
				t.Errorf("node b was told %+v; Bob hung up %q, the cascade %q", got, bob.hangup(), c.hangup())
			}
		})
	})
	t.Run("moderator here left, one on b stays", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			bob, c := end(t, func(_ *Bridge, m, _ *Participant, _ *censusFakeLeg) { m.Leave("bye") })
			if got := c.last(); got.Ending || bob.hangup() != "" {
				t.Errorf("with a moderator left on b: node b told %+v, Bob hung up %q", got, bob.hangup())
			}
		})
	})
	// cascadeGoes demotes Mod, leaving b's moderator the room's only one, then the cascade
	// leg with it behind it goes.
	cascadeGoes := func(t *testing.T, b *Bridge, m, c *Participant, why string) {
		r, _ := b.Room("board")
		if _, err := r.Update(m.ID(), Change{Moderator: new(false)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		c.Leave(why)
	}
	t.Run("re-homed", func(t *testing.T) {
		// A node came back (or this one drains): node b hangs up its leg to this node, the old
		// owner, and this node's cascade to the new owner reports b's moderator a moment later.
		synctest.Test(t, func(t *testing.T) {
			bob, _ := end(t, func(b *Bridge, m, c *Participant, _ *censusFakeLeg) {
				cascadeGoes(t, b, m, c, "b hung up: the room re-homed")
				time.Sleep(time.Second)
				out := mustJoin(t, b, "board", cascadeInfo("x"), &censusFakeLeg{})
				out.SetCensus(Census{People: 2, Moderators: 1})
			})
			if got := bob.hangup(); got != "" {
				t.Errorf("the room re-homed, b's moderator still in it: Bob hung up %q", got)
			}
		})
	})
	t.Run("node with the last moderator gone", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			bob, _ := end(t, func(b *Bridge, m, c *Participant, _ *censusFakeLeg) {
				cascadeGoes(t, b, m, c, "node b died")
			})
			if !strings.Contains(bob.hangup(), "ended") {
				t.Errorf("the cascade with the last moderator behind it went: Bob hung up %q, want the conference ended", bob.hangup())
			}
		})
	})
}

// TestNoOneJoinsAnEndingRoom: while a room ends with its moderator (its people hear the end
// prompt before they are hung up), a newcomer is refused, the way every leg answers it (SIP 480,
// HTTP 409), since the end would never hang it up; once the room has emptied it starts afresh.
func TestNoOneJoinsAnEndingRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, m := boardEndingWithModerator(t)
		bobLeg := &fakeLeg{}
		bob := mustJoin(t, b, "board", pcmuInfo("Bob"), bobLeg)
		time.Sleep(time.Second)
		m.Leave("bye")
		time.Sleep(time.Second) // the end prompt plays
		if _, err := b.Admit("board"); !errors.Is(err, ErrRoomEnding) {
			t.Errorf("admitting to an ending room: %v, want ErrRoomEnding", err)
		}
		if _, err := b.Join("board", pcmuInfo("Cy"), &fakeLeg{}); !errors.Is(err, ErrRoomEnding) {
			t.Errorf("joining an ending room: %v, want ErrRoomEnding", err)
		}
		if _, err := b.Move("other", mustJoin(t, b, "other", pcmuInfo("Dee"), &fakeLeg{}).ID(), MoveRequest{Room: "board"}); !errors.Is(err, ErrRoomEnding) {
			t.Errorf("moving into an ending room: %v, want ErrRoomEnding", err)
		}
		if st, _ := StatusOf(ErrRoomEnding); st.SIP != 480 || st.HTTP != 409 {
			t.Errorf("ErrRoomEnding answered %+v, want SIP 480, HTTP 409", st)
		}
		time.Sleep(endPrompt().Duration() + time.Second)
		if !strings.Contains(bobLeg.hangup(), "ended") {
			t.Fatalf("Bob hung up %q, want the conference ended", bobLeg.hangup())
		}
		bob.Leave("bye") // his leg's BYE
		time.Sleep(time.Second)
		if _, err := b.Join("board", pcmuInfo("Cy"), &fakeLeg{}); err != nil {
			t.Errorf("joining the room once it emptied: %v, want it started afresh", err)
		}
	})
}

// TestCensusMatrixKeepsTheProgramOffTheCascade: Ada is alone in the room on every node and
// hears the hold music; the cascade leg never carries it (node b plays its own). A matrix set
// through the API (PUT …/matrix replaces every pair) must not let the music into the leg: the
// gain of 0 that kept it off was one of those pairs.
func TestCensusMatrixKeepsTheProgramOffTheCascade(t *testing.T) {
	w, ada, b, _ := newCascadedMusicWorld(t, "lobby", RoomSettings{})
	b.p.SetCensus(Census{})
	w.run(60)
	from := w.now.Add(-time.Second)
	if l := level(t, ada, from, w.now, musicHz); l < -30 {
		t.Fatalf("alone on every node, Ada hears the music at %.1f dBFS", l)
	}
	if l := level(t, b, from, w.now, musicHz); l > -50 {
		t.Fatalf("the cascade leg carries the hold music at %.1f dBFS", l)
	}
	r, _ := w.b.Room("lobby")
	if err := r.SetMatrix([]Gain{{Listener: ada.p.ID(), Speaker: b.p.ID(), Gain: 0.5}}); err != nil {
		t.Fatal(err)
	}
	set := w.now
	w.run(60)
	if l := level(t, ada, set.Add(200*time.Millisecond), w.now, musicHz); l < -30 {
		t.Errorf("after the matrix, Ada hears the music at %.1f dBFS", l)
	}
	if l := level(t, b, set.Add(200*time.Millisecond), w.now, musicHz); l > -50 {
		t.Errorf("after a matrix was set, the cascade leg carries the hold music at %.1f dBFS", l)
	}
}
