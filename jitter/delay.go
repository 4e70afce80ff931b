package jitter

import "time"

// The delay estimator follows WebRTC NetEq's DelayManager: each audio packet's relative arrival
// delay — how much later than the fastest packet of the last two seconds it came, once the
// sender's timestamps are taken out — goes into a histogram whose old content is forgotten
// geometrically, and the target delay is a high quantile of that histogram.

const (
	// transitWindow is how far back the fastest packet is looked for (NetEq: 2 s). Longer would
	// react to clock drift; shorter would call a steady queueing delay "jitter" less often but
	// would miss slow waves.
	transitWindow = 2 * time.Second
	// transitSlots bounds the monotonic queue of the window: 2 s of 10 ms packets, with room.
	transitSlots = 256
	// histBuckets is the number of histogram buckets, spread over 1.25 × MaxDelay so that the
	// target can reach MaxDelay and the delays just above it are still told apart.
	histBuckets = 128
	// forgetFactor is the weight a sample keeps per newer sample (NetEq: 0.983, a time constant of
	// about 60 packets or 1.2 s at 50 packets/s): a spike is forgotten within a few seconds.
	forgetFactor = 0.983
	// targetQuantile is the share of packets the target delay waits for. NetEq uses 0.95 and adds
	// headroom elsewhere; here the target is the whole wait, so it covers a little more.
	targetQuantile = 0.98
	// jumpLimit is a change of transit time that no network explains: the sender's timestamps
	// jumped, and the media timeline is re-anchored instead of measuring it as delay.
	jumpLimit = time.Second
)

// transitSample is one packet's arrival time and transit time (arrival minus media time), in ns.
type transitSample struct {
	arrival, transit int64
}

// delayEstimator measures relative arrival delays and keeps their forgetting histogram. It is
// owned by the Buffer and used under its lock; all storage is inside the struct.
type delayEstimator struct {
	// window is a monotonic queue (increasing transit) of the last transitWindow of packets, so
	// that its first element is the window's minimum transit.
	window      [transitSlots]transitSample
	first, size int

	hist        [histBuckets]float64
	bucketWidth int64   // ns per bucket
	weight      float64 // weight of the next sample; grows by 1/forget instead of shrinking all buckets
	total       float64 // sum of hist
	samples     int     // samples so far, for the start-up averaging
}

// init empties the estimator and seeds the histogram with one sample at start, which the first
// few dozen real samples outweigh (NetEq's start-up forgetting).
func (d *delayEstimator) init(maxDelay, start time.Duration) {
	*d = delayEstimator{}
	d.bucketWidth = max(int64(maxDelay+maxDelay/4)/histBuckets, int64(100*time.Microsecond))
	d.weight = 1
	d.hist[d.bucket(int64(start))] = 1
	d.total = 1
	d.samples = 1
}

// bucket returns the histogram bucket of a delay in ns.
func (d *delayEstimator) bucket(delay int64) int {
	b := delay / d.bucketWidth
	if b < 0 {
		return 0
	}
	if b >= histBuckets {
		return histBuckets - 1
	}
	return int(b)
}

// resetWindow forgets the fastest transit seen, as when the media timeline changes (a new clock
// rate or a new source): transits before and after are not comparable.
func (d *delayEstimator) resetWindow() { d.first, d.size = 0, 0 }

// minTransit returns the smallest transit of the window and whether there is one.
func (d *delayEstimator) minTransit() (int64, bool) {
	if d.size == 0 {
		return 0, false
	}
	return d.window[d.first].transit, true
}

// addTransit puts a packet's transit into the window and returns its relative delay.
func (d *delayEstimator) addTransit(arrival, transit int64) int64 {
	// Drop samples that left the window, then those slower than the new one: they can never be
	// the minimum again.
	for d.size > 0 && d.window[d.first].arrival < arrival-int64(transitWindow) {
		d.first = (d.first + 1) % transitSlots
		d.size--
	}
	for d.size > 0 && d.window[(d.first+d.size-1)%transitSlots].transit >= transit {
		d.size--
	}
	if d.size == transitSlots { // a queue full of ever slower packets: let the oldest go
		d.first = (d.first + 1) % transitSlots
		d.size--
	}
	d.window[(d.first+d.size)%transitSlots] = transitSample{arrival: arrival, transit: transit}
	d.size++
	return transit - d.window[d.first].transit
}

// addDelay puts a relative delay into the histogram.
func (d *delayEstimator) addDelay(rel int64) {
	// Forget geometrically, but average plainly while there are few samples, so that the seed
	// and the first packets do not linger.
	f := forgetFactor
	if a := float64(d.samples) / float64(d.samples+1); a < f {
		f = a
	}
	d.samples++
	d.weight /= f
	d.hist[d.bucket(rel)] += d.weight
	d.total += d.weight
	if d.weight > 1e100 { // renormalise long before float64 overflows
		s := 1 / d.weight
		for i := range d.hist {
			d.hist[i] *= s
		}
		d.total *= s
		d.weight = 1
	}
}

// quantile returns the delay below which the share q of the histogram lies: the lower edge of
// the bucket where the cumulative weight crosses q, so that a network without jitter gives 0.
func (d *delayEstimator) quantile(q float64) time.Duration {
	limit := q * d.total
	var cum float64
	for i := range d.hist {
		cum += d.hist[i]
		if cum >= limit {
			return time.Duration(int64(i) * d.bucketWidth)
		}
	}
	return time.Duration(int64(histBuckets-1) * d.bucketWidth)
}
