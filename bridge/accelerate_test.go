package bridge

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"confd/codec"
	"confd/testkit/audiotest"
)

// TestShrinkingDelayKeepsATonesPhase is the end-to-end check that exposed the cuts: sipleg's
// tests judged a 440 Hz tone with one Goertzel sum over seconds of what baresip recorded, and
// read -29 dBFS for -12 after the jitter buffer dropped a few 20 ms frames to shorten its delay
// (each turns the tone by 0.8 of a cycle). Ada's phone stalls for 160 ms and then sends what fell
// due at once, so her buffer grows; as the spike is forgotten it shrinks again, and Bob must hear
// her tone with its phase unbroken across the drops: the coherent level over the four seconds
// after the stall stays at the level of 200 ms pieces.
func TestShrinkingDelayKeepsATonesPhase(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Config{})
		join := func(name string) (*Participant, *fakeLeg) {
			ear := &fakeLeg{}
			return mustJoin(t, b, "shrink", pcmuInfo(name), ear), ear
		}
		ada, _ := join("Ada")
		bob, bobEar := join("Bob")
		start := time.Now()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			stallingPhone(t, ada, codec.PCMU, 0, 440, start.Add(time.Second), 160*time.Millisecond, stop)
		}()
		time.Sleep(6 * time.Second)
		close(stop)
		wg.Wait()
		st := ada.buf.Load().Stats()
		heard := bobEar.heardBetween(t, codec.PCMU, start.Add(1500*time.Millisecond), start.Add(5500*time.Millisecond))
		coherent := audiotest.ToneLevel(heard, codec.SampleRate, 440)
		median := audiotest.MedianToneLevel(heard, codec.SampleRate, 440)
		t.Logf("Bob hears Ada's tone at %.1f dBFS over 4 s, %.1f in 200 ms pieces; Ada's buffer %+v", coherent, median, st)
		if st.Dropped == 0 || st.Accelerated == 0 {
			t.Errorf("Ada's buffer dropped %d packets, time-compressed %d: the test did not shrink the delay", st.Dropped, st.Accelerated)
		}
		if median < -25 || coherent < median-1 {
			t.Errorf("coherent level %.1f dBFS against %.1f in pieces: the drops turned the tone's phase", coherent, median)
		}
		ada.Leave("done")
		bob.Leave("done")
		b.Close()
	})
}
