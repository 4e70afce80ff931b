package dsp

import (
	"cmp"
	"math"

	"confd/codec"
)

// agc is a speech-gated automatic gain control. It measures each frame's power and keeps a noise
// floor under it (codec.NoiseFloor, the tracker the mixer's talker detection keeps too: falling to
// a quieter briefly smoothed power, rising 3 dB/s; speech dips between syllables, noise does not),
// and only a frame 9 dB above that floor and above -55 dBov counts as speech. Only speech frames
// move the gain: towards the one that brings the smoothed speech power to the target, by at most
// +12 dB/s and -40 dB/s (speexdsp's own AGC rates), within ±20 dB. So a quiet talker is raised, a
// loud one lowered, and silence or steady noise between or without words is never pumped up: it
// keeps the gain the last speech set. The gain is ramped across each frame (no zipper noise), and
// cut at once where it would push the frame's peak over -1 dBFS.
type agc struct {
	target float64 // mean square of speech aimed at, relative to full scale
	gain   float64 // linear gain at the end of the last frame
	speech float64 // smoothed mean square of speech frames; 0 before the first
	floor  codec.NoiseFloor
}

// agcMinSpeech is the quietest frame the AGC takes for speech. It stands 5 dB above the mixer's
// default minimum (mixer.Config.MinVoiceLevel, -60 dBov): a frame the mixer hears as a faint
// talker may be too faint to set a gain on, which would raise it, and whatever lies under it,
// by the full 20 dB.
const agcMinSpeech codec.Level = -55

var (
	agcMaxGain      = dbToAmp(MaxAGCGainDB)
	agcMinGain      = dbToAmp(-MaxAGCGainDB)
	agcUpPerFrame   = dbToAmp(12 * codec.FrameDuration.Seconds())
	agcDownPerFrame = dbToAmp(-40 * codec.FrameDuration.Seconds())
	agcSpeech       = codec.NewSpeechRule(codec.DefaultSpeechMarginDB, agcMinSpeech, codec.DefaultNoiseFloorRiseDBPerSecond)
)

// agcSmoothing is the weight of the newest speech frame in the smoothed speech power: about a
// quarter of a second of speech.
const agcSmoothing = 0.08

// agcPeak is the largest sample the gain may produce, -1 dBFS.
const agcPeak = 29204.0

func dbToAmp(db float64) float64 { return math.Pow(10, db/20) }
func dbToPow(db float64) float64 { return math.Pow(10, db/10) }

func (a *agc) setLevel(l codec.Level) {
	a.target = dbToPow(float64(l))
	a.gain = cmp.Or(a.gain, 1)
}

func (a *agc) gainDB() float64 { return 20 * math.Log10(a.gain) }

// process applies the gain to f and adapts it.
func (a *agc) process(f *codec.Frame) {
	var sum float64
	var peak int32
	for _, s := range f {
		v := int32(s)
		sum += float64(v * v)
		peak = max(peak, v, -v)
	}
	ms := codec.PowerOfMeanSquare(sum / float64(len(f)))
	next := a.gain
	if loud, clear := a.floor.Measure(float32(ms), &agcSpeech); loud && clear {
		if a.speech == 0 {
			a.speech = ms
		} else {
			a.speech += agcSmoothing * (ms - a.speech)
		}
		want := min(max(math.Sqrt(a.target/a.speech), agcMinGain), agcMaxGain)
		if want > next {
			next = min(want, next*agcUpPerFrame)
		} else {
			next = max(want, next*agcDownPerFrame)
		}
	}
	if p := float64(peak); p*max(next, a.gain) > agcPeak {
		next = agcPeak / p
		a.gain = next // at once, not ramped: the peak may come first
	}
	g, step := a.gain, (next-a.gain)/float64(len(f))
	for i, s := range f {
		g += step
		f[i] = clip16(float64(s) * g)
	}
	a.gain = next
}
