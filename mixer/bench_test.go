package mixer

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"confd/codec"
	"confd/testkit/audiotest"
)

// loopSource plays a precomputed second of audio in a loop, with the level as RFC 6464
// metadata (or not), so benchmarks measure the mixer and not a sine generator.
type loopSource struct {
	pcm   []int16
	pos   int
	level codec.Level
	known bool
	cur   []int16
}

func newLoop(freq, amp float64, known bool) *loopSource {
	pcm := audiotest.Generate(freq, amp, codec.SampleRate, codec.SampleRate)
	return &loopSource{pcm: pcm, known: known, level: codec.LevelOf(pcm[:codec.FrameSamples])}
}

func (s *loopSource) Advance(time.Time) codec.Activity {
	s.cur = s.pcm[s.pos : s.pos+codec.FrameSamples]
	s.pos = (s.pos + codec.FrameSamples) % len(s.pcm)
	return codec.Activity{Present: true, LevelKnown: s.known, Level: s.level}
}

func (s *loopSource) Read(f *codec.Frame) bool {
	copy(f[:], s.cur)
	return true
}

// threadCPU returns the CPU time the calling thread has used, in ns (getrusage RUSAGE_THREAD):
// on the shared machine wall time also counts the time the thread waits for a core.
func threadCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// quietSource is a browser's muted-by-silence microphone: RFC 6464 levels, nothing to decode.
type quietSource struct{}

func (quietSource) Advance(time.Time) codec.Activity {
	return codec.Activity{Present: true, LevelKnown: true, Level: -85}
}

func (quietSource) Read(f *codec.Frame) bool { f.Clear(); return true }

func benchRoom(b *testing.B, n int, newEnc func(codec.Format) (codec.Encoder, error)) {
	benchRoomWith(b, n, newEnc, opus20, nil)
}

// benchRoomWith is benchRoom with every participant's Format f and setup run before the
// warm-up ticks (pans, for the stereo benchmarks).
func benchRoomWith(b *testing.B, n int, newEnc func(codec.Format) (codec.Encoder, error), f codec.Format, setup func(*Mixer)) {
	m := New(Config{NewEncoder: newEnc})
	for i := range n {
		var src Source = quietSource{}
		if i < 3 {
			src = newLoop(freqs[i], toneAmp, i != 1) // one talker's level must be decoded
		}
		if err := m.Add(ID(i+1), ParticipantConfig{Source: src, Format: f}); err != nil {
			b.Fatal(err)
		}
	}
	if setup != nil {
		setup(m)
	}
	now := time.Unix(0, 0)
	tick := func() {
		m.Tick(now)
		now = now.Add(codec.FrameDuration)
		for i := range n {
			_ = m.Output(ID(i + 1))
		}
	}
	for range 50 {
		tick()
	}
	runtime.LockOSThread() // so that the thread's CPU time is the benchmark's
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := threadCPU()
	for b.Loop() {
		tick()
	}
	b.ReportMetric(float64(threadCPU()-cpu)/1e3/float64(b.N), "cpu-µs/tick")
	perTick := float64(b.Elapsed().Microseconds()) / float64(b.N)
	b.ReportMetric(perTick, "µs/tick")
	b.ReportMetric(perTick/float64(n), "µs/participant")
	b.ReportMetric(float64(m.Stats().EncodesLastTick), "encodes/tick")
	b.ReportMetric(float64(m.Stats().StereoListeners), "stereo-listeners")
}

// BenchmarkTickStereo is BenchmarkTick's room (fake encoders: the mixing) and BenchmarkTickOpus's
// (real encodes) with every participant able to take stereo: "mono" is the room as it is today,
// "capable" the same participants offering stereo=1 in a room without pans (it must cost what
// "mono" does), "panned" the three talkers at -1, 0 and 1 so that everyone hears stereo.
func BenchmarkTickStereo(b *testing.B) {
	pan := func(m *Mixer) {
		for i, p := range []float32{-1, 0, 1} {
			if err := m.SetPan(ID(i+1), p); err != nil {
				b.Fatal(err)
			}
		}
	}
	fake := func(f codec.Format) (codec.Encoder, error) { return (&fakeFactory{}).New(f) }
	for _, enc := range []struct {
		name string
		new  func(codec.Format) (codec.Encoder, error)
		n    int
	}{{"fake", fake, 1000}, {"opus", codec.NewEncoder, 10}, {"opus", codec.NewEncoder, 1000}} {
		for _, room := range []struct {
			name  string
			f     codec.Format
			setup func(*Mixer)
		}{{"mono", opus20, nil}, {"capable", opusStereo, nil}, {"panned", opusStereo, pan}} {
			b.Run(fmt.Sprintf("%s/N=%d/%s", enc.name, enc.n, room.name), func(b *testing.B) {
				benchRoomWith(b, enc.n, enc.new, room.f, room.setup)
			})
		}
	}
}

// BenchmarkTick is one room's tick with fake encoders: the mixer's own cost (levels, selection,
// minus-one mixes, group bookkeeping, outputs) for three talkers and N-3 silent listeners.
func BenchmarkTick(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 5000} {
		b.Run(fmt.Sprint("N=", n), func(b *testing.B) {
			f := &fakeFactory{}
			benchRoom(b, n, f.New)
		})
	}
}

// BenchmarkTickOpus is the same room with real Opus encoders (complexity 5, 32 kbit/s): the
// encodes of the shared mix and the three talkers' minus-ones dominate.
func BenchmarkTickOpus(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprint("N=", n), func(b *testing.B) {
			benchRoom(b, n, codec.NewEncoder)
		})
	}
}

// BenchmarkPeriodic is the waveform check that tells a steady tone from a fan; it runs at most
// every half second per loud, steady participant.
func BenchmarkPeriodic(b *testing.B) {
	n := &noiseSource{amp: 0.1, seed: 1} // noise: the worst case, every lag is tried
	n.Advance(time.Time{})
	for b.Loop() {
		if periodic(&n.frame) {
			b.Fatal("noise is periodic")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/frame")
}
