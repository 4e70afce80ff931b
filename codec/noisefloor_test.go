package codec

import (
	"math"
	"testing"
)

// TestNoiseFloor holds the tracker's rules: the first frame is background; one near-silent frame
// moves the floor by no more than the smoothing allows (1.5 dB) and leaves steady noise short of
// speech; a pause of a few frames brings it down to the pause; it climbs 3 dB a second under a
// steady sound; a syllable 9 dB above it is speech, one under the minimum is not.
func TestNoiseFloor(t *testing.T) {
	r := NewSpeechRule(DefaultSpeechMarginDB, -60, DefaultNoiseFloorRiseDBPerSecond)
	db := func(p float32) float64 { return 10 * math.Log10(float64(p)) }
	var n NoiseFloor
	noise := Level(-46).Power()
	for range 250 {
		if _, clear := n.Measure(noise, &r); clear {
			t.Fatal("steady noise counted as clear of its own floor")
		}
	}
	if got := db(n.Floor()); got < -46.1 || got > -46+3*5+0.1 {
		t.Errorf("floor under 5 s of noise at -46 dBov: %.1f dB", got)
	}
	n = NoiseFloor{}
	n.Measure(noise, &r)
	n.Measure(Level(-100).Power(), &r) // one near-silent frame
	if got := db(n.Floor()); got < -46-1.6 {
		t.Errorf("one quiet frame dragged the floor to %.1f dB", got)
	}
	if _, clear := n.Measure(noise, &r); clear {
		t.Error("noise after one quiet frame counted as clear of the floor")
	}
	for range 50 { // a second's pause at -70
		n.Measure(Level(-70).Power(), &r)
	}
	if got := db(n.Floor()); got > -69 {
		t.Errorf("floor after a second at -70 dBov: %.1f dB", got)
	}
	if loud, clear := n.Measure(Level(-55).Power(), &r); !loud || !clear {
		t.Errorf("a syllable at -55 dBov over a -70 floor: loud %v, clear %v", loud, clear)
	}
	if loud, _ := n.Measure(Level(-61).Power(), &r); loud {
		t.Error("a frame under the minimum counted as loud")
	}
	before := n.Floor()
	for range 50 {
		n.Measure(Level(-20).Power(), &r)
	}
	if rise := db(n.Floor()) - db(before); math.Abs(rise-3) > 0.2 {
		t.Errorf("floor rose %.2f dB in a second under a steady sound, want 3", rise)
	}
	if Level(0).Power() != 1 || Level(5).Power() != 1 || Level(-127).Power() != Silence.Power() || Level(-128).Power() != Silence.Power() {
		t.Error("Level.Power out of range")
	}
	if got := PowerOfMeanSquare(fullScaleSquare / 100); got != 0.01 {
		t.Errorf("PowerOfMeanSquare: %v", got)
	}
}
