package dsp

import (
	"math"
	"math/rand/v2"

	"confd/codec"
	"confd/testkit/audiotest"
)

// talk is a test talker: a tone switched on and off like syllables (burstOn of tone, then
// burstOff of none) over steady broadband noise. A steady tone is not what a voice is: a noise
// estimator that tracks minima (speexdsp's) takes anything that never dips for noise after a
// few seconds, as it should take a fan, so the tone comes and goes as speech does.
type talk struct {
	tone      *audiotest.Tone
	toneAmp   float64 // 0 for noise alone
	noiseAmp  float64 // RMS of the noise, relative to full scale
	pink      bool
	steady    bool // the tone never pauses
	rng       *rand.Rand
	pinkState [7]float64
	n         int // samples generated
	toneBuf   [codec.FrameSamples]int16
}

const (
	toneHz   = 1000.0
	burstOn  = 300 * codec.SampleRate / 1000 // samples
	burstOff = 150 * codec.SampleRate / 1000
	burst    = burstOn + burstOff
)

func newTalk(toneDBov, noiseDBov float64, pink bool) *talk {
	t := &talk{tone: audiotest.NewTone(toneHz, 0, codec.SampleRate), pink: pink,
		rng: rand.New(rand.NewPCG(1, 2))}
	if toneDBov > -127 {
		// A sine's RMS is its amplitude over √2; dBov is RMS relative to full scale.
		t.toneAmp = math.Sqrt2 * math.Pow(10, toneDBov/20)
	}
	if noiseDBov > -127 {
		t.noiseAmp = math.Pow(10, noiseDBov/20)
	}
	t.tone = audiotest.NewTone(toneHz, t.toneAmp, codec.SampleRate)
	return t
}

// toneOn reports whether sample i (of the input) lies in a tone burst.
func toneOn(i int) bool { return i%burst < burstOn }

// noise returns one sample of unit-RMS white noise, or pink noise (Paul Kellet's filter, scaled to
// about unit RMS) when t.pink.
func (t *talk) noise() float64 {
	w := t.rng.NormFloat64()
	if !t.pink {
		return w
	}
	b := &t.pinkState
	b[0] = 0.99886*b[0] + w*0.0555179
	b[1] = 0.99332*b[1] + w*0.0750759
	b[2] = 0.96900*b[2] + w*0.1538520
	b[3] = 0.86650*b[3] + w*0.3104856
	b[4] = 0.55000*b[4] + w*0.5329522
	b[5] = -0.7616*b[5] - w*0.0168980
	p := b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + w*0.5362
	b[6] = w * 0.115926
	return p / 3.3
}

// fill writes the next frame of the talker into f.
func (t *talk) fill(f *codec.Frame) {
	t.tone.Fill(t.toneBuf[:])
	for i := range f {
		v := t.noise() * t.noiseAmp * 32768
		if t.steady || toneOn(t.n+i) {
			v += float64(t.toneBuf[i])
		}
		f[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	t.n += len(f)
}

// levels measures a stream produced from a talk (delay samples late): the tone's level in dBov
// inside the bursts (Goertzel), the noise's RMS in dBov between them, and the residual (all but
// the tone) inside them. Each burst and gap is trimmed by 20 ms at both ends, so that neither the
// onsets nor the processing's delay blur the figures; samples before skip are ignored (the
// adaptation).
func levels(pcm []int16, delay, skip int) (tone, noise, residual float64) {
	var toneSum, resSum, noiseSum float64
	var bursts, noiseN, resN int
	const trim = 20 * codec.SampleRate / 1000
	for start := 0; start+burst+delay <= len(pcm); start += burst {
		if start < skip {
			continue
		}
		on := pcm[start+delay+trim : start+delay+burstOn-trim]
		off := pcm[start+delay+burstOn+trim : start+delay+burst-trim]
		tl := audiotest.ToneLevel(on, codec.SampleRate, toneHz) // amplitude, dB full scale
		toneAmp := math.Pow(10, tl/20)
		toneSum += toneAmp * toneAmp / 2 // power of the sine
		bursts++
		resSum += math.Max(meanSquare(on)-toneAmp*toneAmp/2, 1e-14) * float64(len(on))
		resN += len(on)
		noiseSum += meanSquare(off) * float64(len(off))
		noiseN += len(off)
	}
	db := func(p float64) float64 { return 10 * math.Log10(math.Max(p, 1e-14)) }
	return db(toneSum / float64(bursts)), db(noiseSum / float64(noiseN)), db(resSum / float64(resN))
}

func meanSquare(pcm []int16) float64 {
	var s float64
	for _, v := range pcm {
		x := float64(v) / 32768
		s += x * x
	}
	return s / float64(len(pcm))
}

// run feeds frames of src through p, continuously, and returns the input and the output.
func run(p *Preprocessor, src *talk, frames int) (in, out []int16) {
	var f codec.Frame
	for i := range frames {
		src.fill(&f)
		in = append(in, f[:]...)
		if p != nil {
			p.Process(&f, i > 0)
		}
		out = append(out, f[:]...)
	}
	return in, out
}
