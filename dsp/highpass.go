package dsp

import "math"

// highPassHz is the corner of the high-pass that follows the denoiser. speexdsp leaves the lowest
// of its 50 Hz bins almost untouched (measured on pink noise: the band below 100 Hz lowered by
// 10 dB against 19-22 dB for every band above it), and that band is where the rumble of fans,
// traffic and handling noise sits and where no voice is (a low male voice starts near 85 Hz).
// A second-order Butterworth at 80 Hz, as WebRTC's audio processing uses, takes it out.
const highPassHz = 80

// highPass is a second-order Butterworth high-pass biquad (the RBJ audio-EQ cookbook's), run in
// transposed direct form II in float64: at 80 Hz of 48 kHz the poles sit so near 1 that float32
// state would add audible noise.
type highPass struct {
	b0, b1, b2, a1, a2 float64
	z1, z2             float64
}

func newHighPass(hz float64) highPass {
	w0 := 2 * math.Pi * hz / 48000
	const q = 1 / math.Sqrt2 // Butterworth
	cos, alpha := math.Cos(w0), math.Sin(w0)/(2*q)
	a0 := 1 + alpha
	return highPass{
		b0: (1 + cos) / 2 / a0, b1: -(1 + cos) / a0, b2: (1 + cos) / 2 / a0,
		a1: -2 * cos / a0, a2: (1 - alpha) / a0,
	}
}

// reset forgets the filter's past, for a stream that restarts after a gap.
func (h *highPass) reset() { h.z1, h.z2 = 0, 0 }

// process filters pcm in place, rounding and clipping to int16.
func (h *highPass) process(pcm []int16) {
	z1, z2 := h.z1, h.z2
	for i, s := range pcm {
		x := float64(s)
		y := h.b0*x + z1
		z1 = h.b1*x - h.a1*y + z2
		z2 = h.b2*x - h.a2*y
		pcm[i] = clip16(y)
	}
	h.z1, h.z2 = z1, z2
}

func clip16(v float64) int16 {
	switch {
	case v >= 32767:
		return 32767
	case v <= -32768:
		return -32768
	case v >= 0:
		return int16(v + 0.5)
	default:
		return int16(v - 0.5)
	}
}
