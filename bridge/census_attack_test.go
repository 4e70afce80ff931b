package bridge

import (
	"testing"
	"time"
)

// TestCensusMatrixKeepsTheProgramOffTheCascade: Ada is alone in the room on every node and
// hears the hold music; the cascade leg never carries it (node b plays its own). A matrix set
// through the API (PUT …/matrix replaces every pair) must not let the music into the leg: the
// gain of 0 that kept it off was one of those pairs.
func TestCensusMatrixKeepsTheProgramOffTheCascade(t *testing.T) {
	path := writeWAV(t, 16000, 1, musicHz, 1)
	w := newMusicWorld(t, Config{Rooms: map[string]RoomSettings{"lobby": {HoldMusic: path}}})
	ada := w.join("lobby", "Ada", 440)
	b, _ := w.joinCascade("lobby", "b", 700)
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
