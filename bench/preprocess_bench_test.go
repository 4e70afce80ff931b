package bench

import (
	"runtime"
	"slices"
	"testing"

	"confd/dsp"
	"confd/testkit/cputime"
)

// BenchmarkRoomPreprocess is the cost of noise suppression and AGC in a room: the N = 100 room of
// BenchmarkRoom (K = 3 talkers on tones, the others silent), once with a dsp.Preprocessor on every
// participant and once without, ticked in turn so that the load of the shared machine falls on
// both alike. Every participant has one, but the mixer runs it only for the talkers it mixes: the
// figure per talker is the whole difference divided by K, and the 97 silent participants cost
// nothing.
//
// Metrics: cpu-us/tick (with the preprocessors) and plain-cpu-us/tick (without), medians of the
// CPU time of the benchmark's thread per tick; us/talker = the median difference / K; allocs/tick
// of the room with them (bar 0); decodes/tick (K: the silent are not decoded, nor processed).
func BenchmarkRoomPreprocess(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  dsp.Config
	}{
		{"none", dsp.Config{}},
		{"denoise", dsp.Config{Denoise: true}},
		{"agc", dsp.Config{AGC: true}},
		{"denoise+agc", dsp.Config{Denoise: true, AGC: true}},
	} {
		b.Run("N=100/"+c.name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			plain, err := NewRoom(RoomConfig{Participants: 100})
			if err != nil {
				b.Fatal(err)
			}
			r, err := NewRoom(RoomConfig{Participants: 100})
			if err != nil {
				b.Fatal(err)
			}
			for _, l := range r.legs {
				p, err := dsp.New(c.cfg)
				if err != nil {
					b.Fatal(err)
				}
				defer p.Close()
				if err := r.mix.SetProcessor(l.id, p); err != nil {
					b.Fatal(err)
				}
			}
			plain.Run(roomWarmup)
			r.Run(roomWarmup)
			allocs, _ := r.allocs(50)
			// Per-tick CPU times wander by tens of µs on this shared box: the medians of the
			// two rooms' ticks and of their differences, with the order swapped every tick.
			var with, without, diff []float64
			tick := func(room *Room) float64 {
				start := cputime.Thread()
				room.Push()
				room.Tick()
				return float64((cputime.Thread() - start).Nanoseconds()) / 1e3
			}
			for b.Loop() {
				var w, wo float64
				if len(with)%2 == 0 {
					w, wo = tick(r), tick(plain)
				} else {
					wo, w = tick(plain), tick(r)
				}
				with, without, diff = append(with, w), append(without, wo), append(diff, w-wo)
			}
			b.ReportMetric(median(with), "cpu-us/tick")
			b.ReportMetric(median(without), "plain-cpu-us/tick")
			b.ReportMetric(median(diff)/float64(r.Talkers()), "us/talker")
			b.ReportMetric(allocs, "allocs/tick")
			b.ReportMetric(float64(r.mix.Stats().DecodesLastTick), "decodes/tick")
		})
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
