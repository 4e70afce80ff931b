package bridge

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestClockTicksOnAbsoluteTimeWithoutDrift(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := NewClock(20 * time.Millisecond)
		start := time.Now().Add(20 * time.Millisecond)
		ctx, cancel := context.WithCancel(t.Context())
		var dues []time.Time
		go c.Run(ctx, start, func(due time.Time) {
			dues = append(dues, due)
			// Every tick takes 7 ms of (fake) time; a relative ticker would drift by that.
			time.Sleep(7 * time.Millisecond)
		})
		time.Sleep(20*time.Millisecond + 100*20*time.Millisecond - time.Millisecond)
		cancel()
		synctest.Wait()
		if len(dues) != 100 {
			t.Fatalf("%d ticks in 2 s, want 100", len(dues))
		}
		for i, d := range dues {
			if want := start.Add(time.Duration(i) * 20 * time.Millisecond); !d.Equal(want) {
				t.Fatalf("tick %d due %v, want %v", i, d.Sub(start), want.Sub(start))
			}
		}
		if s := c.Stats(); s.Late != 0 || s.Skipped != 0 {
			t.Errorf("stats %+v, want no late or skipped ticks", s)
		}
	})
}

// TestClockSkipsWhatAStallMissedAndCountsIt: after a stall the clock does not run the ticks it
// missed back to back (a burst that would queue late work on a room already short of CPU): it
// counts them as skipped and runs the latest one due, so that consecutive ticks are always at
// least a period apart and none starts a period or more late.
func TestClockSkipsWhatAStallMissedAndCountsIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := NewClock(20 * time.Millisecond)
		start := time.Now()
		ctx, cancel := context.WithCancel(t.Context())
		n := 0
		var dues, ran []time.Time
		go c.Run(ctx, start, func(due time.Time) {
			n++
			dues, ran = append(dues, due), append(ran, time.Now())
			if n == 10 {
				time.Sleep(70 * time.Millisecond) // a stall of 3.5 ticks
			}
			if n == 50 {
				time.Sleep(time.Second) // a stall of 50 ticks
			}
			if n >= 80 && n < 90 {
				time.Sleep(30 * time.Millisecond) // a room whose ticks take 1.5 periods
			}
		})
		time.Sleep(3*time.Second - time.Millisecond)
		cancel()
		synctest.Wait()
		s := c.Stats()
		if s.Ticks+s.Skipped != 150 {
			t.Errorf("ticks %d + skipped %d = %d, want 150 slots in 3 s", s.Ticks, s.Skipped, s.Ticks+s.Skipped)
		}
		if want := uint64(2 + 49 + 5); s.Skipped != want {
			t.Errorf("%d ticks skipped, want %d (2 and 49 after the stalls, one after every two 30 ms ticks)", s.Skipped, want)
		}
		for i := range dues {
			if late := ran[i].Sub(dues[i]); late >= 20*time.Millisecond {
				t.Errorf("tick %d ran %v late: work a period late is skipped, never run", i, late)
			}
			if i > 0 && dues[i].Sub(dues[i-1]) < 20*time.Millisecond {
				t.Errorf("ticks %d and %d due %v apart: a catch-up burst", i-1, i, dues[i].Sub(dues[i-1]))
			}
		}
	})
}
