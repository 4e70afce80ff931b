package bench

import (
	"math"
	"testing"

	"confd/codec"
	"confd/testkit/audiotest"
)

// TestRoomHeard builds the benchmark's N = 10 room, runs 50 ticks and checks with a tone
// detector that an Opus listener and a PCMU listener hear all three talkers, and that a talker
// hears the other two but not itself: the harness the benchmarks time does real work.
func TestRoomHeard(t *testing.T) {
	r, err := NewRoom(RoomConfig{Participants: 10})
	if err != nil {
		t.Fatal(err)
	}
	k := r.Talkers()
	var mons []*Monitor
	for _, i := range []int{0, k, k + 1} { // talker 440 Hz (Opus), an Opus and a PCMU listener
		m, err := r.Monitor(i)
		if err != nil {
			t.Fatal(err)
		}
		mons = append(mons, m)
	}
	r.Run(50)
	toneDB := 20 * math.Log10(ToneAmplitude)
	for _, m := range mons {
		tail := m.PCM[len(m.PCM)-20*codec.FrameSamples:]
		for j, tk := range DefaultTalkers {
			got := audiotest.ToneLevel(tail, codec.SampleRate, tk.Freq)
			if j == m.Index {
				if got > toneDB-30 {
					t.Errorf("talker %d hears its own %v Hz at %.1f dBFS", m.Index, tk.Freq, got)
				}
				continue
			}
			if math.Abs(got-toneDB) > 3 {
				t.Errorf("participant %d hears %v Hz at %.1f dBFS, want %.1f", m.Index, tk.Freq, got, toneDB)
			}
		}
	}
	st := r.Stats()
	if st.PushErrors != 0 || st.Mixer.EncodeErrors != 0 || st.Jitter.Invalid != 0 {
		t.Errorf("errors: %+v", st)
	}
	if st.Mixer.Talkers != k {
		t.Errorf("%d talkers mixed, want %d", st.Mixer.Talkers, k)
	}
	t.Logf("stats after 50 ticks: %+v", st)
}

// TestRoomAllocs checks that a whole tick of the N = 10 room — pushes, the mixer's tick, the RTP
// headers — allocates nothing once warm, with testing.AllocsPerRun (the benchmarks report the
// same figure per tick and per packet for every N).
func TestRoomAllocs(t *testing.T) {
	r, err := NewRoom(RoomConfig{Participants: 10})
	if err != nil {
		t.Fatal(err)
	}
	r.Run(50)
	if n := testing.AllocsPerRun(50, r.Step); n != 0 {
		t.Errorf("%v allocations per tick", n)
	}
}
