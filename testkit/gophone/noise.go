package gophone

import (
	"math"
	"math/rand/v2"

	"confd/codec"
)

// Tone bursts of a Phone with Config.ToneBursts: 300 ms on, 160 ms off.
const (
	burstOnFrames = 15
	burstFrames   = 23 // on and off, in 20 ms frames (460 ms)
)

// noise adds white noise of a fixed RMS to a phone's frames (Config.NoiseRMS).
type noise struct {
	rms float64
	rng *rand.Rand
}

func newNoise(rms float64) *noise {
	return &noise{rms: rms * 32768, rng: rand.New(rand.NewPCG(7, 11))}
}

// add mixes the noise into f; toneOff first silences the tone (a pause between bursts).
func (n *noise) add(f *codec.Frame, toneOff bool) {
	if toneOff {
		f.Clear()
	}
	if n.rms == 0 {
		return
	}
	for i, s := range f {
		f[i] = int16(max(-32768, min(32767, math.Round(float64(s)+n.rng.NormFloat64()*n.rms))))
	}
}
