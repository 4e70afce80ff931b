package recording

import (
	"testing"
	"testing/synctest"
	"time"

	"confd/bridge"
)

// TestStoppedEventSaysDurationSeconds: the "recording" event of a stop says how long the file
// is as duration_seconds, the spelling of every duration in confd's events and replies
// (room_finished's, the play reply's), and still as duration_s, which the web page and existing
// integrators read.
func TestStoppedEventSaysDurationSeconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := bridge.New(bridge.Config{})
		defer b.Close()
		p := joinSilent(t, b, "timed")
		events := b.Bus().Subscribe("timed", 64, "")
		defer events.Close()
		rec, err := Start(b, "timed", t.TempDir(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if err := rec.Stop(); err != nil {
			t.Fatal(err)
		}
		p.Leave("bye")
		for {
			e := <-events.C
			if e.Type != bridge.EventRecording || e.Data["state"] != "stopped" {
				continue
			}
			secs, ok := e.Data["duration_seconds"].(float64)
			if !ok || secs < 0.9 || secs > 1.1 || e.Data["duration_s"] != secs {
				t.Errorf("stopped after 1 s: duration_seconds %v, duration_s %v", e.Data["duration_seconds"], e.Data["duration_s"])
			}
			return
		}
	})
}
