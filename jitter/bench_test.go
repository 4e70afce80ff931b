package jitter

import (
	"math"
	"runtime"
	"testing"
	"time"

	"confd/codec"
	"confd/testkit/cputime"
)

// BenchmarkPush measures storing one packet (the leg's reader goroutine), with the tick
// consuming in between so that the buffer stays in its steady state.
func BenchmarkPush(b *testing.B) {
	buf, _ := newFakeBuffer(b, Config{})
	payload := fakePayload(1, 960, false)
	var f codec.Frame
	b.ReportAllocs()
	b.ResetTimer()
	var pushNs time.Duration
	for i := 0; i < b.N; i++ {
		now := tickTime(i)
		p := opusPacket(1, i, payload)
		start := time.Now()
		_ = buf.Push(p, now)
		pushNs += time.Since(start)
		buf.Advance(now.Add(time.Millisecond))
		buf.Read(&f)
	}
	b.ReportMetric(float64(pushNs.Nanoseconds())/float64(b.N), "ns/push")
}

// BenchmarkTickWithoutDecode measures Advance for a leg that is not decoded this tick (a
// listener who is not among the talkers): the per-leg cost of a tick for most of a room.
func BenchmarkTickWithoutDecode(b *testing.B) {
	buf, _ := newFakeBuffer(b, Config{})
	payload := fakePayload(1, 960, false)
	b.ReportAllocs()
	b.ResetTimer()
	var tickNs time.Duration
	for i := 0; i < b.N; i++ {
		now := tickTime(i)
		_ = buf.Push(opusPacket(1, i, payload), now)
		start := time.Now()
		buf.Advance(now.Add(time.Millisecond))
		tickNs += time.Since(start)
	}
	b.ReportMetric(float64(tickNs.Nanoseconds())/float64(b.N), "ns/tick")
}

// BenchmarkTickOpusDecode measures a talker's tick with the real Opus decoder: Advance and Read
// of a 20 ms Opus packet, with 5% loss (concealment and FEC included).
func BenchmarkTickOpusDecode(b *testing.B) {
	enc, err := codec.NewEncoder(codec.Format{Codec: codec.Opus, ExpectedLoss: 5})
	if err != nil {
		b.Fatal(err)
	}
	const distinct = 50
	var payloads [distinct][]byte
	var pcm codec.Frame
	for i := range payloads {
		for j := range pcm {
			pcm[j] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i*codec.FrameSamples+j)/codec.SampleRate))
		}
		p := make([]byte, codec.MaxPayloadSize)
		n, err := enc.Encode(pcm[:], p)
		if err != nil {
			b.Fatal(err)
		}
		payloads[i] = p[:n]
	}
	buf, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	var f codec.Frame
	b.ReportAllocs()
	b.ResetTimer()
	var tickNs time.Duration
	for i := 0; i < b.N; i++ {
		now := tickTime(i)
		if i%20 != 7 && len(payloads[i%distinct]) > 0 {
			_ = buf.Push(opusPacket(1, i, payloads[i%distinct]), now)
		}
		start := time.Now()
		buf.Advance(now.Add(time.Millisecond))
		buf.Read(&f)
		tickNs += time.Since(start)
	}
	b.ReportMetric(float64(tickNs.Nanoseconds())/float64(b.N), "ns/tick")
	b.ReportMetric(float64(buf.CurrentDelay().Microseconds())/1000, "delay-ms")
}

// BenchmarkAccelerate measures one time compression (accelerate.go) of a dropped 20 ms frame
// with the tick's frame: the lag search at 12 kHz, its refinement at 48 kHz and the cross-fade,
// on a 440 Hz tone, a voice-like signal with a gliding pitch, and noise (no period: one
// cross-fade). It runs in Read of a tick that drops a packet, at most every 100 ms per voiced
// leg. trim-waits is a tick's trim of a stretch's 6 ms surplus that waits: a 130 Hz tone, whose
// period is longer and which matches itself at none of the surplus's lags, is searched there
// and then beyond; it runs in every Read while such a surplus stays (a steady low tone after a
// stretch).
func BenchmarkAccelerate(b *testing.B) {
	noise := func() func(n int) float64 {
		seed := uint32(7)
		return func(int) float64 { seed = seed*1664525 + 1013904223; return float64(int16(seed>>16)) / 4 }
	}
	const surplus = 6 * codec.SampleRate / 1000
	squeeze := func(a *accelerator, x []int16) int { return a.squeeze(x, len(x)-codec.FrameSamples) }
	for _, c := range []struct {
		name     string
		sig      func(n int) float64
		n        int
		compress func(a *accelerator, x []int16) int
	}{
		{"tone440", sine(440), 2*codec.FrameSamples + maxPitchLag/2, squeeze},
		{"voice", voice(), 2*codec.FrameSamples + maxPitchLag/2, squeeze},
		{"noise", noise(), 2*codec.FrameSamples + maxPitchLag/2, squeeze},
		{"trim-waits", sine(130), surplus + codec.FrameSamples, func(a *accelerator, x []int16) int { return a.trim(x, surplus) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			src := make([]int16, c.n)
			for i := range src {
				src[i] = int16(math.Round(c.sig(i)))
			}
			var a accelerator
			x := make([]int16, c.n)
			// CPU time of the thread: on this shared machine wall time also counts the waits
			// for a core (bench/README.md, "Why CPU time").
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			b.ResetTimer()
			removed := 0
			start := cputime.Thread()
			for i := 0; i < b.N; i++ {
				copy(x, src)
				removed += len(x) - c.compress(&a, x)
			}
			b.ReportMetric(float64((cputime.Thread()-start).Nanoseconds())/1000/float64(b.N), "cpu-us/squeeze")
			b.ReportMetric(float64(removed)/float64(b.N)/codec.SampleRate*1000, "ms-removed/squeeze")
		})
	}
}
