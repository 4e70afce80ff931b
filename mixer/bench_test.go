package mixer

import (
	"fmt"
	"testing"
	"time"

	"confd/codec"
	"confd/internal/testkit/audiotest"
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

// quietSource is a browser's muted-by-silence microphone: RFC 6464 levels, nothing to decode.
type quietSource struct{}

func (quietSource) Advance(time.Time) codec.Activity {
	return codec.Activity{Present: true, LevelKnown: true, Level: -85}
}

func (quietSource) Read(f *codec.Frame) bool { f.Clear(); return true }

func benchRoom(b *testing.B, n int, newEnc func(codec.Format) (codec.Encoder, error)) {
	m := New(Config{NewEncoder: newEnc})
	for i := range n {
		var src Source = quietSource{}
		if i < 3 {
			src = newLoop(freqs[i], toneAmp, i != 1) // one talker's level must be decoded
		}
		if err := m.Add(ID(i+1), ParticipantConfig{Source: src, Format: opus20}); err != nil {
			b.Fatal(err)
		}
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
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		tick()
	}
	perTick := float64(b.Elapsed().Microseconds()) / float64(b.N)
	b.ReportMetric(perTick, "µs/tick")
	b.ReportMetric(perTick/float64(n), "µs/participant")
	b.ReportMetric(float64(m.Stats().EncodesLastTick), "encodes/tick")
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
