package bench

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"confd/codec"
)

// BenchmarkLatency measures the pipeline's added latency in simulated time: a talker's tone
// bursts (an onset every ~300 ms) are encoded, cross a network whose packets arrive at a random
// phase relative to the mixer's tick, go through the jitter buffer and the mixer to a listener on
// the same codec, and are decoded as the listener's phone would. For each onset the figure is the
// time from the arrival of the packet that carries it to the moment the output frame that carries
// it leaves the mixer, taken at the onset's own sample on both sides and found on decoded audio
// with an envelope threshold: the jitter buffer's delay, the wait for the tick and the codec
// delay of the re-encode (the Opus look-ahead of 6.5 ms as libopus reports it, or the 2.5 + 2.5 ms
// of the G.711 path's two resamplers), reported as codec-delay-ms.
//
// Each op is one measurement of 24 sessions of 3 s (about 120 onsets after the warm-ups), each
// session with a fresh random phase; metrics pool every op. Conditions: a clean network, and
// 30 ms of uniform jitter. Metrics: latency-median-ms, latency-p99-ms, codec-delay-ms, onsets,
// missed (onsets not found in the output). Bar: clean-network median ≤ 20 ms.
func BenchmarkLatency(b *testing.B) {
	for _, net := range []struct {
		name   string
		jitter time.Duration
	}{{"clean", 0}, {"jitter30ms", 30 * time.Millisecond}} {
		for _, c := range []codec.Codec{codec.Opus, codec.PCMU} {
			b.Run(fmt.Sprintf("%s/%s", net.name, c), func(b *testing.B) {
				var all LatencyResult
				seed := uint64(0)
				for b.Loop() {
					res, err := MeasureLatency(LatencyConfig{Codec: c, Jitter: net.jitter, Seed: seed})
					if err != nil {
						b.Fatal(err)
					}
					seed++
					all.Latencies = append(all.Latencies, res.Latencies...)
					all.Onsets += res.Onsets
					all.Missed += res.Missed
					all.CodecDelay = res.CodecDelay
				}
				slices.Sort(all.Latencies)
				b.ReportMetric(ms(all.Quantile(0.5)), "latency-median-ms")
				b.ReportMetric(ms(all.Quantile(0.99)), "latency-p99-ms")
				b.ReportMetric(ms(all.CodecDelay), "codec-delay-ms")
				b.ReportMetric(float64(all.Onsets), "onsets")
				b.ReportMetric(float64(all.Missed), "missed")
			})
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
