package mixer

import (
	"errors"
	"math"
	"testing"
)

// TestSoloHearsOneSpeakerEvenWhenOutvoiced: a solo listener (an RTP forwarder of one
// participant) hears its speaker at full level and nobody else, also when the speaker is the
// quietest of six and never a talker; muting the speaker silences it; SetSolo(0) gives the room
// back; the tick still allocates nothing.
func TestSoloHearsOneSpeakerEvenWhenOutvoiced(t *testing.T) {
	amps := []float64{0.2, 0.15, 0.1, 0.07, 0.04, 0.02}
	h := newHarness(t, Config{TopK: 3})
	for i, a := range amps {
		h.add(ID(i+1), newTone(freqs[i], a, i%2 == 1), opus20)
	}
	h.add(100, nil, opus20) // the forwarder of the quietest, 6
	h.add(101, nil, opus20) // the forwarder of the loudest, 1
	if err := h.m.SetSolo(100, 6); err != nil {
		t.Fatal(err)
	}
	if err := h.m.SetSolo(101, 1); err != nil {
		t.Fatal(err)
	}
	h.run(10, false)
	h.run(20, true)
	for _, c := range []struct {
		l  ID
		sp int
	}{{100, 5}, {101, 0}} {
		for j := range amps {
			got := h.level(c.l, freqs[j])
			if j == c.sp {
				if want := 20 * math.Log10(amps[j]); math.Abs(got-want) > 1 {
					t.Errorf("solo listener %d hears its speaker %v Hz at %.1f dBFS, want %.1f", c.l, freqs[j], got, want)
				}
			} else if got > -60 {
				t.Errorf("solo listener %d hears %v Hz at %.1f dBFS, want nothing of anyone but its speaker", c.l, freqs[j], got)
			}
		}
	}
	if a := testing.AllocsPerRun(50, func() { h.run(1, false) }); a != 0 {
		t.Errorf("Tick with solo listeners allocates %v times per run", a)
	}

	_ = h.m.SetMuted(6, true)
	h.run(5, false)
	h.reset()
	h.run(20, true)
	if got := h.level(100, freqs[5]); got > -60 {
		t.Errorf("a muted speaker is forwarded at %.1f dBFS, want silence", got)
	}

	if err := h.m.SetSolo(101, 0); err != nil {
		t.Fatal(err)
	}
	h.run(40, false) // the private encoder lingers, then the shared mix
	h.reset()
	h.run(20, true)
	for j := range 3 {
		if got, want := h.level(101, freqs[j]), 20*math.Log10(amps[j]); math.Abs(got-want) > 1 {
			t.Errorf("after SetSolo(0) listener 101 hears %v Hz at %.1f dBFS, want the room's %.1f", freqs[j], got, want)
		}
	}

	if err := h.m.SetSolo(100, 100); !errors.Is(err, ErrSelfPair) {
		t.Errorf("SetSolo on itself: %v, want ErrSelfPair", err)
	}
	if err := h.m.SetSolo(100, 999); !errors.Is(err, ErrUnknownParticipant) {
		t.Errorf("SetSolo of an unknown speaker: %v, want ErrUnknownParticipant", err)
	}
	if err := h.m.Remove(1); err != nil {
		t.Fatal(err)
	}
	_ = h.m.SetSolo(101, 2)
	if err := h.m.Remove(2); err != nil {
		t.Fatal(err)
	}
	h.run(5, false)
	h.reset()
	h.run(10, true)
	for j := range amps {
		if got := h.level(101, freqs[j]); got > -60 {
			t.Errorf("after its speaker left, solo listener 101 hears %v Hz at %.1f dBFS, want silence", freqs[j], got)
		}
	}
}
