package bench

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"confd/dsp"
	"confd/testkit/cputime"
)

// roomWarmup is how many ticks a room runs before it is measured: two seconds, in which the
// jitter buffers leave their start delay, the talkers are selected and every encoder pool is warm.
const roomWarmup = 100

// BenchmarkRoom times one room of N participants, K = 3 of them talking (tones; Opus and PCMU
// payloads from real encoders) and the others listening, half of them browsers on Opus sending
// DTX frames every 400 ms and half phones on PCMU sending near silence every 20 ms. One op is one
// tick: every arriving packet pushed into its leg's jitter buffer, the mixer's tick (Advance on
// every buffer, decoding only the talkers, mixing, one encode per output group) and every
// listener's RTP header written into a reused buffer.
//
// Metrics:
//   - us/tick: the whole tick, in µs of wall time.
//   - cpu-us/tick: the same in CPU time of the benchmark's thread (cputime.Thread). On this
//     shared, oversubscribed 2-core box that is the cost; us/tick adds the time spent waiting
//     for a core. The next two figures are computed from CPU time.
//   - fixed-cpu-us/tick: the room's fixed cost, measured on the room of the K talkers plus one
//     listener per format (the talkers' and the groups' encodes); the sub-benchmark N=5-fixed
//     times that room alone.
//   - marginal-us/listener: (cpu-us/tick − fixed) / (N − K), the cost of one more silent
//     listener per tick, jitter buffer and header included. Bar: ≤ 5 µs. At N = 10 the seven
//     listeners' ≈10 µs hide in the fixed cost's noise; the figure means something from N = 100.
//   - push-us/packet: the jitter buffer's Push, per packet (the legs' reader side), CPU time.
//   - allocs/tick and allocs/packet: heap allocations in a whole tick and in one Push, counted
//     with runtime.MemStats over 50 ticks after the warm-up. Bar: 0 and 0.
//   - encodes/tick and decodes/tick: the mixer's Encode and Source.Read calls in the last tick,
//     which show that the cost of a tick does not grow with N beyond the per-leg bookkeeping.
func BenchmarkRoom(b *testing.B) {
	for _, n := range []int{0, 10, 100, 1000, 5000} {
		name := fmt.Sprintf("N=%d", n)
		if n == 0 {
			name = fmt.Sprintf("N=%d-fixed", len(DefaultTalkers)+len(DefaultListenerFormats))
		}
		b.Run(name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			r := newBenchRoom(b, RoomConfig{Participants: n}, roomWarmup, 50)
			perTick := r.timeTicks(b)
			if n == 0 {
				return
			}
			fixed := fixedCost(b)
			b.ReportMetric(fixed, "fixed-cpu-us/tick")
			b.ReportMetric((perTick-fixed)/float64(r.Len()-r.Talkers()), "marginal-us/listener")
		})
	}
}

// BenchmarkRoomDistinct times the same rooms with every mix distinct: each listener has a custom
// matrix row (a gain on one talker), so the mixer sums and encodes one mix per participant, as a
// bridge without shared output groups does for everyone (FreeSWITCH, Janus).
//
// Metrics: us/tick as in BenchmarkRoom, and us/participant = us/tick / N. Bar: ≤ 200 µs per
// participant (an Opus encode is ≈145 µs at complexity 5, a PCMU one a resample); 0 allocs/tick
// and allocs/packet once every private encoder exists.
//
// N stops at 1000: 5000 distinct mixes are 2500 Opus encodes a tick, about 0.65 s of CPU for each
// 20 ms tick, so the warm-up and a single timed second would take minutes while the per-participant
// figure, which is what the benchmark reports, does not change with N.
func BenchmarkRoomDistinct(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			// Private encoders are made on the ticks a listener first turns private; 15 ticks
			// cover the jitter buffers' start and the priming.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			r := newBenchRoom(b, RoomConfig{Participants: n, Distinct: true}, 15, 10)
			if got, want := r.mix.Stats().PrivateListeners, r.Len(); got < want-1 {
				b.Fatalf("%d private listeners of %d participants: the mixes are not distinct", got, want)
			}
			perTick := r.timeTicks(b)
			b.ReportMetric(perTick/float64(r.Len()), "us/participant")
		})
	}
}

// benchRoom is a Room under a benchmark.
type benchRoom struct {
	*Room
	allocsPerTick, allocsPerPacket float64
}

// newBenchRoom builds the room, warms it up for warm ticks and reports allocs/tick and
// allocs/packet measured over allocTicks more.
func newBenchRoom(b *testing.B, cfg RoomConfig, warm, allocTicks int) benchRoom {
	b.Helper()
	r, err := NewRoom(cfg)
	if err != nil {
		b.Fatal(err)
	}
	r.Run(warm)
	perTick, perPacket := r.allocs(allocTicks)
	if st := r.Stats(); st.PushErrors != 0 || st.Mixer.EncodeErrors != 0 {
		b.Fatalf("errors in the room: %+v", st)
	}
	return benchRoom{Room: r, allocsPerTick: perTick, allocsPerPacket: perPacket}
}

// timeTicks runs the measured loop, one tick per op, reports its metrics (b.Loop's first call
// clears those reported before it) and returns cpu-us/tick.
func (r benchRoom) timeTicks(b *testing.B) float64 {
	var pushTime, cpuStart time.Duration
	var packets, ticks int
	for b.Loop() {
		if ticks == 0 {
			cpuStart = cputime.Thread()
		}
		start := cputime.Thread()
		packets += r.Push()
		pushTime += cputime.Thread() - start
		r.Tick()
		ticks++
	}
	cpu := float64((cputime.Thread() - cpuStart).Nanoseconds()) / 1e3 / float64(ticks)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(ticks), "us/tick")
	b.ReportMetric(cpu, "cpu-us/tick")
	if packets > 0 {
		b.ReportMetric(float64(pushTime.Nanoseconds())/1e3/float64(packets), "push-us/packet")
	}
	b.ReportMetric(r.allocsPerTick, "allocs/tick")
	b.ReportMetric(r.allocsPerPacket, "allocs/packet")
	st := r.mix.Stats()
	b.ReportMetric(float64(st.EncodesLastTick), "encodes/tick")
	b.ReportMetric(float64(st.DecodesLastTick), "decodes/tick")
	return cpu
}

// allocs runs n ticks and returns the heap allocations per whole tick and per pushed packet,
// read from runtime.MemStats around each phase (testing.AllocsPerRun cannot split a tick into
// its two phases).
func (r *Room) allocs(n int) (perTick, perPacket float64) {
	var ms runtime.MemStats
	var pushAllocs, tickAllocs uint64
	var packets int
	for range n {
		runtime.ReadMemStats(&ms)
		before := ms.Mallocs
		packets += r.Push()
		runtime.ReadMemStats(&ms)
		mid := ms.Mallocs
		r.Tick()
		runtime.ReadMemStats(&ms)
		pushAllocs += mid - before
		tickAllocs += ms.Mallocs - mid
	}
	perTick = float64(pushAllocs+tickAllocs) / float64(n)
	if packets > 0 {
		perPacket = float64(pushAllocs) / float64(packets)
	}
	return perTick, perPacket
}

var fixed struct {
	once sync.Once
	us   float64
}

// fixedCost returns the fixed cost of a room in CPU µs per tick: the median of seven 50-tick
// batches of the room of the K talkers and one listener per format, measured once per process
// on the caller's (locked) thread.
func fixedCost(b *testing.B) float64 {
	fixed.once.Do(func() {
		r, err := NewRoom(RoomConfig{})
		if err != nil {
			b.Fatal(err)
		}
		r.Run(roomWarmup)
		var batches []float64
		for range 7 {
			start := cputime.Thread()
			r.Run(50)
			batches = append(batches, float64((cputime.Thread()-start).Nanoseconds())/1e3/50)
		}
		slices.Sort(batches)
		fixed.us = batches[len(batches)/2]
	})
	return fixed.us
}

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
