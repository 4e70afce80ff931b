package mixer

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"confd/codec"
	"confd/testkit/audiotest"
)

var freqs = []float64{440, 700, 1000, 1300, 1700, 2100, 2500, 2900, 3300, 3700}

// toneAmp 0.1 reads -20 dBFS.
const toneAmp, toneDB = 0.1, -20.0

func TestEveryoneHearsEveryoneElseUpToKPlusOne(t *testing.T) {
	for n := 2; n <= 4; n++ {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			h := newHarness(t, Config{TopK: 3})
			for i := range n {
				h.add(ID(i+1), newTone(freqs[i], toneAmp, i%2 == 0), opus20)
			}
			h.run(10, false)
			h.run(20, true)
			for i := range n {
				for j := range n {
					got := h.level(ID(i+1), freqs[j])
					if i == j {
						if got > toneDB-30 {
							t.Errorf("listener %d hears itself at %.1f dBFS", i+1, got)
						}
					} else if math.Abs(got-toneDB) > 1 {
						t.Errorf("listener %d hears %v Hz at %.1f dBFS, want %.0f", i+1, freqs[j], got, toneDB)
					}
				}
			}
		})
	}
}

func TestOnlyTheLoudestTalkersAreHeard(t *testing.T) {
	amps := []float64{0.2, 0.15, 0.1, 0.07, 0.04, 0.02}
	h := newHarness(t, Config{TopK: 3})
	for i, a := range amps {
		h.add(ID(i+1), newTone(freqs[i], a, i%2 == 1), opus20)
	}
	h.add(100, nil, opus20) // a WHEP listener
	h.run(10, false)
	h.run(20, true)
	talkers := h.m.Talkers(nil)
	slices.Sort(talkers)
	if want := []ID{1, 2, 3, 4}; !slices.Equal(talkers, want) {
		t.Fatalf("talkers %v, want %v (TopK+1)", talkers, want)
	}
	for _, l := range append([]ID{100}, h.ids[:len(amps)]...) {
		// Each listener hears the three loudest others, and nobody else.
		var others []int
		for j := range amps {
			if ID(j+1) != l {
				others = append(others, j)
			}
		}
		for k, j := range others {
			got := h.level(l, freqs[j])
			want := 20 * math.Log10(amps[j])
			if k < 3 && math.Abs(got-want) > 1 {
				t.Errorf("listener %d hears %v Hz at %.1f dBFS, want %.1f", l, freqs[j], got, want)
			}
			if k >= 3 && got > -60 {
				t.Errorf("listener %d hears unselected %v Hz at %.1f dBFS", l, freqs[j], got)
			}
		}
	}
	// One shared encode for the listeners, one per primary talker.
	if st := h.m.Stats(); st.EncodesLastTick != 4 {
		t.Errorf("encodes per tick %d, want 4 (shared + 3 talkers): %+v", st.EncodesLastTick, st)
	}
}

func TestGains(t *testing.T) {
	h := newHarness(t, Config{})
	h.add(1, newTone(440, toneAmp, true), opus20)
	h.add(2, newTone(1000, toneAmp, false), opus20)
	h.add(3, nil, opus20)
	h.add(4, nil, opus20)
	h.run(10, false)
	for _, g := range []float32{0.5, 2, 4, 0.1, 1} {
		if err := h.m.SetGain(3, 1, g); err != nil {
			t.Fatal(err)
		}
		if err := h.m.SetGain(2, 1, g); err != nil {
			t.Fatal(err)
		}
		h.reset()
		h.run(10, true)
		want := toneDB + 20*math.Log10(float64(g))
		for _, l := range []ID{2, 3} {
			if got := h.level(l, 440); math.Abs(got-want) > 0.5 {
				t.Errorf("gain %v: listener %d hears %.2f dBFS, want %.2f", g, l, got, want)
			}
		}
		if got := h.level(4, 440); math.Abs(got-toneDB) > 0.5 {
			t.Errorf("gain %v on listener 3 changed listener 4: %.2f dBFS", g, got)
		}
		if got := h.level(3, 1000); math.Abs(got-toneDB) > 0.5 {
			t.Errorf("gain %v on speaker 1 changed speaker 2 for listener 3: %.2f dBFS", g, got)
		}
	}
	if err := h.m.SetGain(3, 1, 0); err != nil {
		t.Fatal(err)
	}
	h.reset()
	h.run(5, true)
	if got := h.level(3, 440); got > -90 {
		t.Errorf("gain 0 still heard at %.1f dBFS", got)
	}
}

// TestRulesShapeTheNextTick applies each rule between two ticks and checks the very next tick.
func TestRulesShapeTheNextTick(t *testing.T) {
	setup := func(t *testing.T) *harness {
		h := newHarness(t, Config{TopK: 5})
		for i := range 4 {
			h.add(ID(i+1), newTone(freqs[i], toneAmp, i%2 == 0), opus20)
		}
		h.add(5, newTone(freqs[4], toneAmp, true), opus20)
		h.add(6, nil, opus20)
		h.run(10, false)
		return h
	}
	heard := func(h *harness, l ID, j int) bool { return h.level(l, freqs[j]) > toneDB-30 }
	expect := func(t *testing.T, h *harness, what string, want func(l ID, j int) bool) {
		t.Helper()
		h.reset()
		h.run(1, true)
		for _, l := range []ID{1, 2, 3, 4, 5, 6} {
			for j := range 5 {
				if ID(j+1) == l {
					continue
				}
				if w := want(l, j); heard(h, l, j) != w {
					t.Errorf("%s: listener %d hears %v Hz at %.1f dBFS, want heard=%v",
						what, l, freqs[j], h.level(l, freqs[j]), w)
				}
			}
		}
	}
	t.Run("mute", func(t *testing.T) {
		h := setup(t)
		must(t, h.m.SetMuted(2, true))
		expect(t, h, "2 muted", func(l ID, j int) bool { return j != 1 })
	})
	t.Run("deaf", func(t *testing.T) {
		h := setup(t)
		must(t, h.m.SetDeaf(3, true))
		expect(t, h, "3 deaf", func(l ID, j int) bool { return l != 3 })
	})
	t.Run("monitor", func(t *testing.T) {
		h := setup(t)
		must(t, h.m.SetRole(4, RoleMonitor, 0))
		expect(t, h, "4 monitor", func(l ID, j int) bool { return j != 3 })
	})
	t.Run("coach", func(t *testing.T) {
		h := setup(t)
		must(t, h.m.SetRole(5, RoleCoach, 1))
		// The coach fades in over the first tick (it is a new whisper), so look at the next.
		h.run(1, false)
		expect(t, h, "5 coaches 1", func(l ID, j int) bool { return j != 4 || l == 1 })
	})
	t.Run("gain", func(t *testing.T) {
		h := setup(t)
		must(t, h.m.SetGain(6, 1, 0.5))
		h.reset()
		h.run(1, true)
		if got := h.level(6, freqs[0]); math.Abs(got-(toneDB-6.02)) > 0.5 {
			t.Errorf("gain 0.5 in the next tick: %.2f dBFS", got)
		}
	})
	t.Run("precedence", func(t *testing.T) {
		h := setup(t)
		must(t, h.m.SetRole(5, RoleCoach, 1))
		must(t, h.m.SetGain(1, 5, 2)) // the target hears its coach louder
		must(t, h.m.SetGain(2, 5, 4)) // a gain does not beat the role
		must(t, h.m.SetRole(4, RoleMonitor, 0))
		must(t, h.m.SetGain(6, 4, 4)) // nor a monitor's
		must(t, h.m.SetMuted(3, true))
		must(t, h.m.SetGain(6, 3, 4)) // nor a mute
		h.run(2, false)
		h.reset()
		h.run(5, true)
		if got := h.level(1, freqs[4]); math.Abs(got-(toneDB+6.02)) > 0.5 {
			t.Errorf("target hears its coach at gain 2 at %.2f dBFS", got)
		}
		for _, c := range []struct {
			l ID
			j int
		}{{2, 4}, {6, 3}, {6, 2}, {6, 4}} {
			if heard(h, c.l, c.j) {
				t.Errorf("listener %d hears %v Hz at %.1f dBFS", c.l, freqs[c.j], h.level(c.l, freqs[c.j]))
			}
		}
		must(t, h.m.SetMuted(5, true)) // a muted coach is not heard even by its target
		must(t, h.m.SetMuted(3, false))
		must(t, h.m.SetDeaf(6, true)) // deaf beats a gain of 4
		h.run(3, false)
		h.reset()
		h.run(5, true)
		if heard(h, 1, 4) {
			t.Errorf("target hears its muted coach")
		}
		if got := audiotest.RMS(h.heard[6]); got > -100 {
			t.Errorf("deaf listener hears %.1f dBFS", got)
		}
		if g := h.m.OutputGroup(6); g == "" || g[:6] != "silent" {
			t.Errorf("deaf listener is in group %q", g)
		}
		for _, c := range []struct {
			l, s ID
			want float32
		}{{1, 5, 0}, {2, 5, 0}, {6, 4, 0}, {6, 1, 0}, {1, 3, 1}, {1, 1, 0}, {2, 1, 1}} {
			if g, err := h.m.EffectiveGain(c.l, c.s); err != nil || g != c.want {
				t.Errorf("EffectiveGain(%d, %d) = %v, %v; want %v", c.l, c.s, g, err, c.want)
			}
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestSteadyNoiseIsNeverATalker(t *testing.T) {
	for _, known := range []bool{true, false} {
		t.Run(fmt.Sprint("known=", known), func(t *testing.T) {
			h := newHarness(t, Config{})
			h.add(1, newTone(440, toneAmp, true), opus20)
			fan := &noiseSource{amp: 0.1, seed: 7, known: known}
			h.add(2, fan, opus20)
			h.add(3, newTone(1000, toneAmp, false), opus20)
			for range 300 {
				h.run(1, false)
				if h.m.Talking(2) || slices.Contains(h.m.Talkers(nil), 2) {
					t.Fatalf("tick %d: the fan (%d dBov) is a talker", h.m.tick, h.m.Level(2))
				}
			}
			if !h.m.Talking(1) || !h.m.Talking(3) {
				t.Errorf("the tones stopped being talkers")
			}
			if known && fan.reads > 300/periodicTicks+1 {
				t.Errorf("a fan with a known level was decoded %d times in 300 ticks", fan.reads)
			}
		})
	}
}

func TestTenLoudTalkersStayBounded(t *testing.T) {
	h := newHarness(t, Config{TopK: 10})
	var srcs []*toneSource
	for i := range 10 {
		s := newTone(freqs[i], 0.9, true)
		srcs = append(srcs, s)
		h.add(ID(i+1), s, opus20)
	}
	h.add(11, nil, opus20)
	h.run(5, false)
	for range 10 {
		h.run(1, true)
		// The ideal sum, from the sources' frames of this tick.
		got := h.heard[11][len(h.heard[11])-codec.FrameSamples:]
		for i := range codec.FrameSamples {
			var ideal int32
			for _, s := range srcs {
				ideal += int32(s.frame[i])
			}
			o := int32(got[i])
			if ideal > 2000 && o < min(ideal, limiterKnee) || ideal < -2000 && o > max(ideal, -limiterKnee) {
				t.Fatalf("sample %d: sum %d came out as %d", i, ideal, o)
			}
		}
	}
	if got := audiotest.RMS(h.heard[11]); got < -10 {
		t.Errorf("ten loud talkers mixed to %.1f dBFS", got)
	}
}

// bandLevel returns the energy of pcm between lo and hi Hz, Hann-windowed, in dB relative to a
// full-scale sine.
func bandLevel(pcm []int16, lo, hi float64) float64 {
	n := len(pcm)
	var e float64
	for k := int(lo * float64(n) / codec.SampleRate); k <= int(hi*float64(n)/codec.SampleRate); k++ {
		var re, im float64
		w := 2 * math.Pi * float64(k) / float64(n)
		for i, s := range pcm {
			x := (0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1))) * float64(s) / 32768
			re += x * math.Cos(w*float64(i))
			im -= x * math.Sin(w*float64(i))
		}
		e += re*re + im*im
	}
	// A full-scale sine gives |X|² = (N/4)² in its bin and about half that in each neighbour.
	return 10 * math.Log10(e/(1.5*float64(n)*float64(n)/16)+1e-30)
}

func TestTalkerSwitchCrossfadesWithoutClick(t *testing.T) {
	h := newHarness(t, Config{TopK: 1})
	a := newTone(440, toneAmp, true)
	b := newTone(1000, toneAmp*2, true)
	b.paused = true
	h.add(1, a, opus20)
	h.add(2, b, opus20)
	h.add(3, nil, opus20)
	h.run(10, true)
	b.paused = false // 6 dB louder than a: it takes a's place in the shared mix
	h.run(10, true)
	if got := h.m.Talkers(nil); len(got) != 2 {
		t.Fatalf("talkers %v", got)
	}
	pcm := h.heard[3]
	tail := pcm[len(pcm)-5*codec.FrameSamples:]
	if l := audiotest.ToneLevel(tail, codec.SampleRate, 440); l > -60 {
		t.Errorf("a still in the shared mix after the switch: %.1f dBFS", l)
	}
	if l := audiotest.ToneLevel(tail, codec.SampleRate, 1000); math.Abs(l-(toneDB+6)) > 1 {
		t.Errorf("b in the shared mix at %.1f dBFS", l)
	}
	// Energy far above both tones, over the switch, relative to the tones.
	sw := 10 * codec.FrameSamples // the switch frame starts here
	window := pcm[sw-1024+codec.FrameSamples/2 : sw+1024+codec.FrameSamples/2]
	click := bandLevel(window, 4000, 20000)
	ref := math.Max(audiotest.ToneLevel(window, codec.SampleRate, 440), audiotest.ToneLevel(window, codec.SampleRate, 1000))
	t.Logf("switch residual above 4 kHz: %.1f dB relative to the tones", click-ref)
	if click-ref > -40 {
		t.Errorf("switch residual %.1f dB relative to the tones, want ≤ -40", click-ref)
	}
	// The same measure has teeth: a hard switch at the same place.
	hard := append([]int16(nil), window...)
	ta, tb := audiotest.NewTone(440, toneAmp, codec.SampleRate), audiotest.NewTone(1000, toneAmp*2, codec.SampleRate)
	half := len(hard) / 2
	ta.Fill(hard[:half])
	tb.Fill(hard[half:])
	if hc := bandLevel(hard, 4000, 20000) - ref; hc < -40 {
		t.Errorf("a hard switch reads %.1f dB: the measure cannot see clicks", hc)
	} else {
		t.Logf("a hard switch reads %.1f dB", hc)
	}
}

// TestToneFromTheFirstPacketIsATalker: a test peer playing a tone file sends it from its first
// packet, so the floor starts on it; periodicity tells it from a fan.
func TestToneFromTheFirstPacketIsATalker(t *testing.T) {
	h := newHarness(t, Config{})
	a, b := newTone(440, toneAmp, true), newTone(1000, toneAmp, false)
	a.quiet, b.quiet = 0, 0
	h.add(1, a, opus20)
	h.add(2, b, opus20)
	h.add(3, &noiseSource{amp: 0.1, seed: 3, known: true}, opus20)
	h.add(4, &noiseSource{amp: 0.1, seed: 5}, opus20)
	h.run(1, false)
	for range 500 {
		h.run(1, false)
		if !h.m.Talking(1) || !h.m.Talking(2) || h.m.Talking(3) || h.m.Talking(4) {
			t.Fatalf("tick %d: talking %v %v %v %v, want tones only", h.m.tick,
				h.m.Talking(1), h.m.Talking(2), h.m.Talking(3), h.m.Talking(4))
		}
	}
}

func TestPeriodic(t *testing.T) {
	var f codec.Frame
	for _, freq := range []float64{100, 150, 440, 1000, 3000} {
		audiotest.NewTone(freq, 0.1, codec.SampleRate).Fill(f[:])
		if !periodic(&f) {
			t.Errorf("a %v Hz tone is not periodic", freq)
		}
	}
	n := &noiseSource{amp: 0.5, seed: 1}
	for i := range 200 {
		n.Advance(time.Time{})
		if periodic(&n.frame) {
			t.Fatalf("noise frame %d is periodic", i)
		}
	}
	f.Clear()
	if periodic(&f) {
		t.Error("silence is periodic")
	}
}

// TestFanSwitchedOnMidCall: the floor sits at the room's silence when the fan starts, so the fan
// stands clear of it; its steadiness gets it checked, and it is not periodic.
func TestFanSwitchedOnMidCall(t *testing.T) {
	for _, known := range []bool{true, false} {
		h := newHarness(t, Config{})
		h.add(1, newTone(440, toneAmp, true), opus20)
		fan := &switchedFan{noiseSource: noiseSource{amp: 0.1, seed: 9, known: known}, after: 50}
		h.add(2, fan, opus20)
		talked := 0
		for range 500 {
			h.run(1, false)
			if slices.Contains(h.m.Talkers(nil), 2) {
				talked++
			}
		}
		// Steady for 25 ticks, then the hold of 10: it may be heard briefly, never after.
		if talked > steadyTicks+12 {
			t.Errorf("known=%v: a fan switched on mid-call was a talker for %d ticks", known, talked)
		}
		if h.m.Talking(2) || !h.m.Talking(1) {
			t.Errorf("known=%v: talking fan=%v tone=%v", known, h.m.Talking(2), h.m.Talking(1))
		}
	}
}

type switchedFan struct {
	noiseSource
	after, ticks int
}

func (s *switchedFan) Advance(now time.Time) codec.Activity {
	s.ticks++
	a := s.noiseSource.Advance(now)
	if s.ticks <= s.after {
		s.frame.Clear()
		if a.LevelKnown {
			a.Level = codec.Silence
		}
	}
	return a
}
