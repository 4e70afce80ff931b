package dsp

import (
	"testing"

	"confd/codec"
)

// BenchmarkProcess is the cost of one talker for one tick (a 20 ms frame at 48 kHz) as the mixer
// pays it: µs/talker is what a room adds per mixed talker with the feature on (only the K+1
// decoded talkers are processed; a silent participant costs nothing).
func BenchmarkProcess(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"denoise", Config{Denoise: true}},
		{"agc", Config{AGC: true}},
		{"denoise+agc", Config{Denoise: true, AGC: true}},
	} {
		b.Run(c.name, func(b *testing.B) {
			p, err := New(c.cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			frames, f := talkFrames(50), new(codec.Frame)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				*f = frames[i%len(frames)]
				p.Process(f, true)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/talker")
		})
	}
}

// BenchmarkDenoiseVia16kHz is the alternative for narrowband legs (narrowband_test.go): resample
// to 16 kHz, denoise there, resample back.
func BenchmarkDenoiseVia16kHz(b *testing.B) {
	a := newAt16k(b)
	defer a.sp.free()
	frames, f := talkFrames(50), new(codec.Frame)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		*f = frames[i%len(frames)]
		a.process(f)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/talker")
}

func talkFrames(n int) []codec.Frame {
	src := newTalk(-20, -40, false)
	frames := make([]codec.Frame, n)
	for i := range frames {
		src.fill(&frames[i])
	}
	return frames
}
