package bridge

import (
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"confd/codec"
	"confd/jitter"
	"confd/testkit/audiotest"
	"confd/testkit/rtptest"
)

// TestTickMovesToJustAfterTheTalkersPackets: a talker whose packets arrive 12 ms before the tick
// (audio waiting 12 ms for nothing) makes the room slide its clock until they arrive about
// phaseMargin before it, and the room is heard as before.
func TestTickMovesToJustAfterTheTalkersPackets(t *testing.T) {
	// Ticks come at join+20ms·n: packets sent 8 ms after it are 12 ms early.
	shifted, heard := phasedRoom(t, []phasedSender{{PhaseTalking, 8 * time.Millisecond, 700}})
	// From a 12 ms wait to a 5 ms one: the ticks come 7 ms earlier (modulo a frame).
	if shifted < 5*time.Millisecond || shifted > 8*time.Millisecond {
		t.Errorf("clock shifted %v, want about 7ms", shifted)
	}
	if len(heard) < 10*48000 {
		t.Fatalf("listener got %d samples", len(heard))
	}
	if l := audiotest.ToneLevel(heard[len(heard)-48000:], 48000, 700); l < -20 {
		t.Errorf("after phasing the listener hears the talker at %.1f dBFS", l)
	}
}

// TestPhaseServesEveryTalker: the tick goes into the largest gap between the talkers' arrivals.
// One talker whose packets wait 12 ms (±1) gets its tick 7 ms earlier, so they wait 5 ms. Three
// taking turns a third of a frame apart, one of whose packets come just before the tick and so,
// with a little jitter, now and then just after it (waiting 0-1 ms or 19-20 ms), get a tick that
// no packet of any of them misses by less than 2 ms on either side: following the closest
// talker alone would have put the one a third of a frame before it back at the tick's edge.
func TestPhaseServesEveryTalker(t *testing.T) {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	var one []time.Duration
	for i := range 50 {
		one = append(one, ms(11+2*float64(i%5)/4))
	}
	if err := phaseError(one); err < ms(5.9) || err > ms(6.1) {
		t.Errorf("one talker at 11-13 ms: shift %v earlier, want 6 ms (its shortest wait to 5 ms)", err)
	}
	var three []time.Duration
	for i := range 150 {
		jitter := 2 * float64(i%7) / 6 // 0-2 ms
		switch i % 3 {
		case 0:
			three = append(three, ms(19+jitter)%phaseFrame) // 19-21: just before the tick or after it
		case 1:
			three = append(three, ms(5.67+jitter))
		case 2:
			three = append(three, ms(12.33+jitter))
		}
	}
	err := phaseError(slices.Clone(three))
	for _, w := range three {
		after := (w - err + 2*phaseFrame) % phaseFrame
		if after < 2*time.Millisecond || after > phaseFrame-2*time.Millisecond {
			t.Fatalf("shift %v: a wait of %v becomes %v, within 2 ms of the tick", err, w, after)
		}
	}
}

// TestPhaseStaysInAGoodGap: three talkers whose arrivals leave the tick a gap as wide as the
// others get no shift beyond the margin's, window after window: hopping between equal gaps would
// slide the clock without end.
func TestPhaseStaysInAGoodGap(t *testing.T) {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	var waits []time.Duration
	for i := range 150 {
		jitter := 2 * float64(i%7) / 6
		waits = append(waits, ms(2.5+float64(i%3)*20/3+jitter))
	}
	if err := phaseError(waits); err > ms(0.5) || err < -ms(0.5) {
		t.Errorf("shift %v, want none: the tick's gap is as wide as the others", err)
	}
}

// phasedRoom runs a room in a synctest bubble for 15 s with a listener and one sender per
// phasing, each sending from its offset after the room's first tick was due (ticks come at
// join+20ms·n) a tone of its frequency (0: digital silence, which is still sent), and returns
// how far the room's clock moved (modulo a frame, positive: earlier) and what the listener
// heard.
func phasedRoom(t *testing.T, senders []phasedSender) (shifted time.Duration, heard []int16) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Config{})
		leg := &fakeLeg{}
		listener := mustJoin(t, b, "phase", ParticipantInfo{Name: "listener", Output: codec.Format{Codec: codec.PCMU}}, leg)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var parts []*Participant
		for _, s := range senders {
			p := mustJoin(t, b, "phase", ParticipantInfo{Name: "sender", Output: codec.Format{Codec: codec.PCMU}, Phasing: s.phasing,
				Input: []jitter.PayloadType{{Type: 0, Codec: codec.PCMU}}}, &fakeLeg{})
			parts = append(parts, p)
			wg.Go(func() {
				time.Sleep(s.offset)
				if err := rtptest.SendTone(p, codec.PCMU, 0, s.hz, stop); err != nil {
					t.Error(err)
				}
			})
		}
		time.Sleep(15 * time.Second)
		room, _ := b.Room("phase")
		shifted = (room.clock.Shifted()%phaseFrame + phaseFrame) % phaseFrame
		close(stop)
		wg.Wait()
		for _, p := range parts {
			p.Leave("bye")
		}
		listener.Leave("bye")
		synctest.Wait()
		heard = leg.heard(t, codec.PCMU)
	})
	return shifted, heard
}

type phasedSender struct {
	phasing Phasing
	offset  time.Duration
	hz      float64
}

// TestLeadSetsTheTickLeadWaitAfterIt: a cascade leg from another node (PhaseLead) whose
// packets, silent, arrive 2 ms after the tick (waiting 18 ms) makes the room move its ticks
// until they come leadWait (7.5 ms) after them: 10.5 ms earlier, or 9.5 later. A person
// talking at another phase meanwhile does not move it elsewhere: the owner follows its cascades
// alone.
func TestLeadSetsTheTickLeadWaitAfterIt(t *testing.T) {
	for _, tc := range []struct {
		name    string
		senders []phasedSender
	}{
		{"silent lead", []phasedSender{{PhaseLead, 2 * time.Millisecond, 0}}},
		{"silent lead and a talker", []phasedSender{{PhaseLead, 2 * time.Millisecond, 0}, {PhaseTalking, 9 * time.Millisecond, 700}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// From an 18 ms wait to a 7.5 ms one: ticks 10.5 ms earlier (modulo a frame).
			if s, _ := phasedRoom(t, tc.senders); s < 9500*time.Microsecond || s > 11500*time.Microsecond {
				t.Errorf("clock shifted %v, want about 10.5ms (modulo a frame)", s)
			}
		})
	}
}

// TestCascadeToTheOwnerIsNotPhasedOn: the calling node's cascade leg to the owner (PhaseNever)
// talking, its packets 12 ms before the tick, leaves the clock where it is: the owner phases on
// that node's packets, and were both to follow each other their clocks would slide for ever. A
// person in the same place moves the tick (TestTickMovesToJustAfterTheTalkersPackets).
func TestCascadeToTheOwnerIsNotPhasedOn(t *testing.T) {
	if s, _ := phasedRoom(t, []phasedSender{{PhaseNever, 8 * time.Millisecond, 700}}); s != 0 {
		t.Errorf("clock shifted %v, want not at all", s)
	}
}
