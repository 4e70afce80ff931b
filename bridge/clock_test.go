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

func TestClockCatchesUpAfterAStallAndCountsIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := NewClock(20 * time.Millisecond)
		start := time.Now()
		ctx, cancel := context.WithCancel(t.Context())
		n := 0
		go c.Run(ctx, start, func(due time.Time) {
			n++
			if n == 10 {
				time.Sleep(70 * time.Millisecond) // a stall of 3.5 ticks
			}
			if n == 50 {
				time.Sleep(time.Second) // a stall of 50 ticks: too long to replay
			}
		})
		time.Sleep(3*time.Second - time.Millisecond)
		cancel()
		synctest.Wait()
		s := c.Stats()
		if s.Ticks+s.Skipped != 150 {
			t.Errorf("ticks %d + skipped %d = %d, want 150 slots in 3 s", s.Ticks, s.Skipped, s.Ticks+s.Skipped)
		}
		if s.Late < 3 || s.Skipped == 0 {
			t.Errorf("stats %+v: want the late ticks counted and the long stall skipped", s)
		}
	})
}
