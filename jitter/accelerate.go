package jitter

import (
	"math"

	"confd/codec"
)

// Time compression ("accelerate", as WebRTC NetEq calls it) shortens the playout delay without
// the click of a cut. Cutting a 20 ms frame out of a 440 Hz tone turns its phase by 0.8 cycle;
// removing a whole number of pitch periods instead, with a cross-fade between two stretches that
// look alike, leaves a periodic signal as it was (WSOLA, Verhelst and Roelands 1993; NetEq's
// Accelerate). The playout decides what to drop; the decode stage, which holds the PCM, removes
// it with squeeze.
const (
	// minPitchLag and maxPitchLag bound the pitch period searched: 2.5 ms (400 Hz) to 20 ms
	// (50 Hz), NetEq's range. A removal is a multiple of the period, found directly as the best
	// lag within maxPitchLag below the samples to remove.
	minPitchLag = codec.SampleRate / 400
	maxPitchLag = codec.SampleRate / 50
	// decimation is the factor of the coarse lag search (12 kHz): 16 times fewer products, and
	// a voice's pitch is well below 6 kHz. The lag is then refined at 48 kHz.
	decimation = 4
	// corrWindow is the stretch compared at each lag (10 ms: two periods at 100 Hz).
	corrWindow = codec.SampleRate / 100
	// fadeSamples is the raised-cosine cross-fade of the splice (5 ms).
	fadeSamples = codec.SampleRate / 200
	// periodicCorrelation is the normalised correlation above which the signal counts as
	// periodic at a lag; below it no lag splices seamlessly, and the whole excess goes at one
	// cross-fade.
	periodicCorrelation = 0.7
	// peakTolerance lets a longer lag win over the best one when its correlation is almost as
	// high, so that as much of the excess goes as a whole number of periods allows.
	peakTolerance = 0.1
	// edgeCorrelation is the match the longest lag needs when it is no local maximum: that of a
	// sine off by less than a degree (or of a constant).
	edgeCorrelation = 0.9999
	// silentPower is the mean square below which a stretch is silence (about -60 dBFS): cut it
	// whole.
	silentPower = 1 << 10
	// maxSqueeze is the most audio one tick time-compresses away (three 20 ms frames); a longer
	// dropped packet is cut as before.
	maxSqueeze = 3 * codec.FrameSamples
	// maxSurplus is the most of what a squeeze or a stretch held back that may wait for the next
	// compression; more is squeezed away in the next tick (see Read).
	maxSurplus = codec.SampleRate / 200
	// squeezeCap is the decode stage's sample queue: what is held back from the last squeeze (less
	// than maxPitchLag), the audio to remove, and the tick's frame.
	squeezeCap = maxPitchLag + maxSqueeze + codec.FrameSamples
)

// fadeIn is the rising half of the cross-fade's raised cosine; the falling half is 1-fadeIn.
var fadeIn = func() (w [fadeSamples]float32) {
	for i := range w {
		w[i] = float32(0.5 - 0.5*math.Cos(math.Pi*(float64(i)+0.5)/fadeSamples))
	}
	return w
}()

// accelerator holds the scratch space of squeeze, allocated with the Buffer.
type accelerator struct {
	dec  [squeezeCap / decimation]float32
	rev  [2 * maxPitchLag]int16 // the history reversed, for the pitch of a stretch
	corr [maxPitchLag/decimation + 2]float64
	// periodic and spliced count the squeezes that removed pitch periods and those that
	// cross-faded a non-periodic or silent stretch, stretched the stretches that repeated
	// pitch periods, for tests and the benchmark.
	periodic, spliced, stretched uint64
}

// squeeze removes up to excess samples from x, all of whose samples are still to be played,
// keeping at least len(x)-excess, and returns the new length. On a periodic signal it removes the
// whole number of pitch periods closest to excess from below (less by under maxPitchLag): x[0:W]
// is cross-faded into x[T:T+W] at the lag T whose stretch matches best, and x[T+W:] follows. On
// anything else (noise, a transient, silence) it removes excess exactly with the same cross-fade.
// It allocates nothing.
func (a *accelerator) squeeze(x []int16, excess int) int {
	return a.compress(x, excess, false)
}

// trim is squeeze for a surplus no drop planned, which may wait: it removes nothing, and
// returns len(x), when x repeats only at a period longer than excess (a low tone or voice whose
// period the surplus falls short of), where removing excess exactly would cross-fade two
// stretches out of phase, the click a stretch avoids. It allocates nothing.
func (a *accelerator) trim(x []int16, excess int) int {
	return a.compress(x, excess, true)
}

// compress is squeeze, and trim when seamless is set.
func (a *accelerator) compress(x []int16, excess int, seamless bool) int {
	n := len(x)
	lo, hi := max(excess-maxPitchLag, minPitchLag), excess
	if excess <= 0 || n-excess < corrWindow || n > squeezeCap {
		return n
	}
	lag := excess
	if hi >= lo {
		if l, ok := a.pitchLag(x, lo, hi); ok {
			lag = l
			a.periodic++
		} else if seamless && a.periodicBeyond(x, hi) {
			return n
		} else {
			a.spliced++
		}
	} else {
		return n // less than a pitch period to remove: keep it for the next time
	}
	for i := range fadeSamples {
		w := fadeIn[i]
		x[i] = int16(math.Round(float64(float32(x[i])*(1-w) + float32(x[lag+i])*w)))
	}
	copy(x[fadeSamples:], x[lag+fadeSamples:])
	return n - lag
}

// periodicBeyond reports whether x repeats at some lag longer than excess, up to maxPitchLag.
func (a *accelerator) periodicBeyond(x []int16, excess int) bool {
	_, ok := a.pitchLag(x, excess+1, maxPitchLag)
	return ok
}

// pitchLag returns the lag in [lo, hi] at which x[0:corrWindow] and x[lag:lag+corrWindow] match
// best, preferring the longest lag of almost the best match (whole periods, whose rounding to a
// sample errs once rather than once per period), and whether that match is periodic.
func (a *accelerator) pitchLag(x []int16, lo, hi int) (int, bool) {
	// Coarse search at 12 kHz on a box-filtered copy.
	m := len(x) / decimation
	var power float64
	for i := range m {
		j := i * decimation
		s := float32(x[j]) + float32(x[j+1]) + float32(x[j+2]) + float32(x[j+3])
		a.dec[i] = s
		power += float64(s) * float64(s)
	}
	if power/float64(m*decimation*decimation) < silentPower {
		return 0, false // silence: any splice is inaudible
	}
	const w = corrWindow / decimation
	d := a.dec[:m]
	loD, hiD := (lo+decimation-1)/decimation, min(hi/decimation, m-w)
	if hiD < loD {
		return 0, false
	}
	var ea, eb float64
	for i := range w {
		ea += float64(d[i]) * float64(d[i])
		eb += float64(d[loD+i]) * float64(d[loD+i])
	}
	corr := a.corr[:hiD-loD+1]
	best := -1.0
	for k := loD; k <= hiD; k++ {
		if k > loD {
			o, e := float64(d[k-1]), float64(d[k+w-1])
			eb += e*e - o*o
		}
		var dot float32
		for i, v := range d[:w] {
			dot += v * d[k+i]
		}
		c := 0.0
		if ea > 0 && eb > 0 {
			c = float64(dot) / math.Sqrt(ea*eb)
		}
		corr[k-loD] = c
		best = max(best, c)
	}
	if best < periodicCorrelation {
		return 0, false
	}
	// The longest lag at a local maximum of nearly the best match: a whole number of periods.
	pick := -1
	for k := len(corr) - 2; k >= 1; k-- {
		if c := corr[k]; c >= best-peakTolerance && c >= corr[k-1] && c >= corr[k+1] {
			pick = k
			break
		}
	}
	if pick < 0 {
		for k, c := range corr {
			if c == best {
				pick = k
			}
		}
	}
	// The longest lag of all, the excess itself, is no local maximum when the match peaks beyond
	// it; take it only when it matches all but perfectly (a steady signal whose period divides
	// the excess).
	if last := len(corr) - 1; pick < last && corr[last] >= best-peakTolerance {
		if lag, c, peak := refine(x, (loD+last)*decimation, lo, hi); (peak && c >= best-peakTolerance) || c >= edgeCorrelation {
			return lag, true
		}
	}
	lag, c, _ := refine(x, (loD+pick)*decimation, lo, hi)
	return lag, c >= periodicCorrelation
}

// refine returns the lag within decimation of center, and within [lo, hi], at which x matches
// itself best at 48 kHz, that match, and whether it is a local maximum (not at the edge of the
// lags tried).
func refine(x []int16, center, lo, hi int) (lag int, c float64, peak bool) {
	from, to := max(center-decimation, lo), min(center+decimation, hi, len(x)-corrWindow)
	lag, c = from, -2.0
	for l := from; l <= to; l++ {
		if cl := correlation(x[:corrWindow], x[l:l+corrWindow]); cl > c {
			lag, c = l, cl
		}
	}
	return lag, c, lag > from && lag < to
}

// correlation returns the normalised cross-correlation of two equally long stretches.
func correlation(p, q []int16) float64 {
	var dot, ep, eq int64
	for i, v := range p {
		u := q[i]
		dot += int64(v) * int64(u)
		ep += int64(v) * int64(v)
		eq += int64(u) * int64(u)
	}
	if ep == 0 || eq == 0 {
		return 0
	}
	return float64(dot) / math.Sqrt(float64(ep)*float64(eq))
}
