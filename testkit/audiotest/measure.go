package audiotest

import (
	"math"
	"math/cmplx"
	"slices"
	"time"
)

// floorDB is what the level functions return for digital silence.
const floorDB = -200.0

func toDB(amplitude float64) float64 {
	if amplitude <= 0 {
		return floorDB
	}
	return math.Max(20*math.Log10(amplitude), floorDB)
}

// ToneLevel returns the amplitude, in dB relative to full scale, of the sine at freqHz in pcm: a
// full-scale sine reads about 0 dB and a tone that is absent reads far below the others. It runs a
// Goertzel filter at the exact frequency over a Hann-windowed block, so neighbouring tones more than
// a few bins away (a few × rate/len(pcm) Hz) do not leak into it.
func ToneLevel(pcm []int16, rate int, freqHz float64) float64 {
	n := len(pcm)
	if n < 2 {
		return floorDB
	}
	w := 2 * math.Pi * freqHz / float64(rate)
	var re, im float64
	for i, s := range pcm {
		win := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1))
		x := win * float64(s) / 32768
		re += x * math.Cos(w*float64(i))
		im -= x * math.Sin(w*float64(i))
	}
	// A sine of amplitude A gives |X| = A·N/2 times the Hann window's coherent gain of 0.5.
	return toDB(4 * math.Hypot(re, im) / float64(n))
}

// LevelChunk is the length of the pieces MedianToneLevel measures: long enough to resolve tones
// 100 Hz apart (a Hann window's main lobe is 4/LevelChunk wide), short enough that a splice
// leaves most pieces whole. The Go phones' Timeline.Level (testkit/gophone) measures the same pieces.
const LevelChunk = 200 * time.Millisecond

// MedianToneLevel returns the level in dBFS of the sine at freqHz in pcm as a listener hears it:
// the median of ToneLevel over the whole LevelChunk pieces of pcm (ToneLevel of all of pcm when
// it holds fewer than two). ToneLevel over a long block is a coherent sum: it reads the tone's level only while
// the tone's phase runs on unbroken. What a phone decodes is spliced wherever a frame was dropped
// or concealed on the way (a jitter buffer shortening its delay after a stall, a room that
// skipped a tick): each 20 ms splice turns a 440 Hz tone by 0.8 of a cycle, and a few of them
// spread over two seconds cancel the sum to 20 dB below a tone that was heard at full level in
// every frame (sipleg's TestDialOutThroughAnAuthenticatingProxy read -32 dBFS for -12). The
// median of short pieces reads the level; a tone missing from more than half of the pieces, or
// present in none, still reads far below.
func MedianToneLevel(pcm []int16, rate int, freqHz float64) float64 {
	n := int(int64(rate) * int64(LevelChunk) / int64(time.Second))
	if len(pcm) < 2*n {
		return ToneLevel(pcm, rate, freqHz)
	}
	levels := make([]float64, 0, len(pcm)/n)
	for off := 0; off+n <= len(pcm); off += n {
		levels = append(levels, ToneLevel(pcm[off:off+n], rate, freqHz))
	}
	slices.Sort(levels)
	return levels[len(levels)/2]
}

// RMS returns the root-mean-square level of pcm in dB relative to full scale (a full-scale sine
// reads about -3 dB).
func RMS(pcm []int16) float64 {
	if len(pcm) == 0 {
		return floorDB
	}
	var sum float64
	for _, s := range pcm {
		x := float64(s) / 32768
		sum += x * x
	}
	return toDB(math.Sqrt(sum / float64(len(pcm))))
}

// SNR returns, in dB, the power of the sinusoid at freqHz in pcm over the power of everything else:
// it fits the best sine, cosine and constant at that frequency by least squares and compares the
// fit with the residual. A clean tone through a good codec reads 20-40 dB; noise reads below 0.
func SNR(pcm []int16, rate int, freqHz float64) float64 {
	n := len(pcm)
	if n < 3 {
		return floorDB
	}
	w := 2 * math.Pi * freqHz / float64(rate)
	// Normal equations for x ≈ a·sin + b·cos + c.
	var ss, sc, s1, cc, c1, xs, xc, x1 float64
	for i, v := range pcm {
		s, c := math.Sincos(w * float64(i))
		x := float64(v)
		ss += s * s
		sc += s * c
		s1 += s
		cc += c * c
		c1 += c
		xs += x * s
		xc += x * c
		x1 += x
	}
	a, b, c, ok := solve3([3][3]float64{{ss, sc, s1}, {sc, cc, c1}, {s1, c1, float64(n)}}, [3]float64{xs, xc, x1})
	if !ok {
		return floorDB
	}
	var sig, res float64
	for i, v := range pcm {
		s, co := math.Sincos(w * float64(i))
		fit := a*s + b*co
		sig += fit * fit
		r := float64(v) - fit - c
		res += r * r
	}
	if sig == 0 {
		return floorDB
	}
	if res == 0 {
		return -floorDB
	}
	return 10 * math.Log10(sig/res)
}

// solve3 solves a 3×3 linear system by Cramer's rule.
func solve3(m [3][3]float64, v [3]float64) (x, y, z float64, ok bool) {
	det := func(a [3][3]float64) float64 {
		return a[0][0]*(a[1][1]*a[2][2]-a[1][2]*a[2][1]) -
			a[0][1]*(a[1][0]*a[2][2]-a[1][2]*a[2][0]) +
			a[0][2]*(a[1][0]*a[2][1]-a[1][1]*a[2][0])
	}
	d := det(m)
	if math.Abs(d) < 1e-12 {
		return 0, 0, 0, false
	}
	var out [3]float64
	for col := 0; col < 3; col++ {
		mm := m
		for row := 0; row < 3; row++ {
			mm[row][col] = v[row]
		}
		out[col] = det(mm) / d
	}
	return out[0], out[1], out[2], true
}

// PeakFrequency returns the frequency in Hz of the strongest component of pcm (DC excluded),
// from a Hann-windowed FFT refined by parabolic interpolation of the log magnitudes. Its resolution
// is a small fraction of rate/len(pcm).
func PeakFrequency(pcm []int16, rate int) float64 {
	if len(pcm) < 4 {
		return 0
	}
	size := nextPow2(len(pcm))
	buf := make([]complex128, size)
	n := len(pcm)
	for i, s := range pcm {
		win := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1))
		buf[i] = complex(win*float64(s), 0)
	}
	fft(buf, false)
	best, bestMag := 1, 0.0
	for k := 1; k < size/2; k++ {
		if m := cmplx.Abs(buf[k]); m > bestMag {
			best, bestMag = k, m
		}
	}
	offset := 0.0
	if best > 1 && best < size/2-1 {
		l := math.Log(cmplx.Abs(buf[best-1]) + 1e-12)
		c := math.Log(bestMag + 1e-12)
		r := math.Log(cmplx.Abs(buf[best+1]) + 1e-12)
		if den := l - 2*c + r; den != 0 {
			offset = 0.5 * (l - r) / den
		}
	}
	return (float64(best) + offset) * float64(rate) / float64(size)
}

// Delay returns the lag, in samples, by which got trails ref: the shift that maximises their
// cross-correlation (computed by FFT). A negative lag means got leads ref.
func Delay(ref, got []int16) int {
	if len(ref) == 0 || len(got) == 0 {
		return 0
	}
	size := nextPow2(len(ref) + len(got))
	a := make([]complex128, size)
	b := make([]complex128, size)
	for i, s := range ref {
		a[i] = complex(float64(s), 0)
	}
	for i, s := range got {
		b[i] = complex(float64(s), 0)
	}
	fft(a, false)
	fft(b, false)
	for i := range a {
		a[i] = b[i] * cmplx.Conj(a[i])
	}
	fft(a, true)
	best, bestVal := 0, math.Inf(-1)
	for k := 0; k < size; k++ {
		lag := k
		if k > size/2 {
			lag = k - size
		}
		if lag >= len(got) || -lag >= len(ref) {
			continue
		}
		if v := real(a[k]); v > bestVal {
			best, bestVal = lag, v
		}
	}
	return best
}

func nextPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}

// fft is an in-place iterative radix-2 FFT; inverse scales by 1/len(x).
func fft(x []complex128, inverse bool) {
	n := len(x)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j ^= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	sign := -1.0
	if inverse {
		sign = 1
	}
	for size := 2; size <= n; size <<= 1 {
		step := cmplx.Rect(1, sign*2*math.Pi/float64(size))
		for start := 0; start < n; start += size {
			w := complex(1, 0)
			for k := 0; k < size/2; k++ {
				u := x[start+k]
				v := w * x[start+k+size/2]
				x[start+k] = u + v
				x[start+k+size/2] = u - v
				w *= step
			}
		}
	}
	if inverse {
		for i := range x {
			x[i] /= complex(float64(n), 0)
		}
	}
}
