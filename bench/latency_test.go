package bench

import (
	"testing"
	"time"

	"confd/codec"
)

// TestLatencyHarness runs two short sessions per path on a clean network and checks that every
// onset is found on both sides and that each latency lies between the codec delay alone and the
// codec delay plus one tick and a frame of jitter-buffer slack: the harness measures the pipeline
// rather than its own mistakes. The figures themselves are BenchmarkLatency's.
func TestLatencyHarness(t *testing.T) {
	for _, c := range []codec.Codec{codec.Opus, codec.PCMU} {
		res, err := MeasureLatency(LatencyConfig{Codec: c, Sessions: 2, Duration: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if res.Onsets < 8 || res.Missed != 0 || len(res.Latencies) != res.Onsets {
			t.Fatalf("%s: %d onsets, %d missed, %d latencies", c, res.Onsets, res.Missed, len(res.Latencies))
		}
		lo, hi := res.Latencies[0], res.Latencies[len(res.Latencies)-1]
		if lo < res.CodecDelay-time.Millisecond || hi > res.CodecDelay+2*codec.FrameDuration {
			t.Errorf("%s: latencies %v to %v, codec delay %v", c, lo, hi, res.CodecDelay)
		}
		t.Logf("%s: %d onsets, latency %v to %v, median %v, codec delay %v", c, res.Onsets, lo, hi, res.Quantile(0.5), res.CodecDelay)
	}
}
