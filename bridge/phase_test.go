package bridge

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"confd/codec"
	"confd/internal/audiotest"
	"confd/internal/rtptest"
	"confd/jitter"
)

// TestTickMovesToJustAfterTheTalkersPackets: a talker whose packets arrive 12 ms before the tick
// (audio waiting 12 ms for nothing) makes the room slide its clock until they arrive about
// phaseMargin before it, and the room is heard as before.
func TestTickMovesToJustAfterTheTalkersPackets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Config{})
		talker, err := b.Join("phase", ParticipantInfo{Name: "talker", Output: codec.Format{Codec: codec.PCMU},
			Input: []jitter.PayloadType{{Type: 0, Codec: codec.PCMU}}}, &fakeLeg{})
		if err != nil {
			t.Fatal(err)
		}
		leg := &fakeLeg{}
		listener, err := b.Join("phase", ParticipantInfo{Name: "listener", Output: codec.Format{Codec: codec.PCMU}}, leg)
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			time.Sleep(8 * time.Millisecond) // ticks come at join+20ms·n: packets 12 ms early
			if err := rtptest.SendTone(talker, codec.PCMU, 0, 700, stop); err != nil {
				t.Error(err)
			}
		})
		time.Sleep(15 * time.Second)
		room, _ := b.Room("phase")
		shifted := room.clock.Shifted() % (20 * time.Millisecond)
		close(stop)
		wg.Wait()
		talker.Leave("bye")
		listener.Leave("bye")
		synctest.Wait()
		// From a 12 ms wait to a 5 ms one: the ticks come 7 ms earlier (modulo a frame).
		if shifted < 5*time.Millisecond || shifted > 8*time.Millisecond {
			t.Errorf("clock shifted %v, want about 7ms", shifted)
		}
		heard := leg.heard(t, codec.PCMU)
		if len(heard) < 10*48000 {
			t.Fatalf("listener got %d samples", len(heard))
		}
		if l := audiotest.ToneLevel(heard[len(heard)-48000:], 48000, 700); l < -20 {
			t.Errorf("after phasing the listener hears the talker at %.1f dBFS", l)
		}
	})
}
