package audiotest

import "math"

// Tone generates a sine wave whose phase continues across calls to Fill, so a stream cut into
// frames has no discontinuity at frame edges.
type Tone struct {
	freq, amp float64
	rate      int
	phase     float64 // in cycles, [0, 1)
}

// NewTone returns a generator of a sine at freqHz with amplitude amp (1 is full scale) at rate
// samples per second.
func NewTone(freqHz, amp float64, rate int) *Tone {
	return &Tone{freq: freqHz, amp: amp, rate: rate}
}

// Fill writes the next len(pcm) samples of the tone into pcm.
func (t *Tone) Fill(pcm []int16) {
	step := t.freq / float64(t.rate)
	for i := range pcm {
		pcm[i] = clamp16(t.amp * 32767 * math.Sin(2*math.Pi*t.phase))
		t.phase += step
		if t.phase >= 1 {
			t.phase -= math.Floor(t.phase)
		}
	}
}

// Reset restarts the tone at phase zero.
func (t *Tone) Reset() { t.phase = 0 }

// Frequency returns the tone's frequency in Hz.
func (t *Tone) Frequency() float64 { return t.freq }

// Generate returns n samples of a sine at freqHz with amplitude amp at rate.
func Generate(freqHz, amp float64, rate, n int) []int16 {
	pcm := make([]int16, n)
	NewTone(freqHz, amp, rate).Fill(pcm)
	return pcm
}

func clamp16(v float64) int16 {
	v = math.Round(v)
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(v)
}
