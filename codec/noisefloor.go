package codec

import (
	"math"
	"time"
)

// The speech rule's defaults, which the mixer's talker detector (mixer.Config) and the
// preprocessor's AGC (dsp) both start from, so that a frame one counts as speech the other does.
const (
	// DefaultSpeechMarginDB is how far a frame's power must stand above the tracked noise floor
	// to be speech: syllables stand 10-30 dB above the pauses between them, a fan's frames
	// stay within a few dB of one another.
	DefaultSpeechMarginDB = 9.0
	// DefaultNoiseFloorRiseDBPerSecond is how fast the floor climbs towards a steady sound: a
	// fan switched on is background after a few seconds, while the floor under a talker,
	// pulled down again at every pause, stays at the room's background.
	DefaultNoiseFloorRiseDBPerSecond = 3.0
)

// floorSmoothing is the weight of the newest frame in the briefly smoothed power the floor
// follows down: a single quiet frame moves it by 1.5 dB, a pause of a few frames all the way.
const floorSmoothing = 0.3

// SpeechRule is the setting of a NoiseFloor turned into linear factors once: the margin above
// the floor and the minimum power a frame needs to count as speech, and the floor's rise per
// 20 ms frame (FrameDuration). One SpeechRule serves any number of NoiseFloors; it is read only.
type SpeechRule struct {
	min       float32 // linear power
	margin    float32 // linear power ratio above the floor
	risePer   float32 // floor growth per frame, linear
	smoothing float32
}

// NewSpeechRule returns the rule for frames at least marginDB above their floor and at least
// minLevel loud, with a floor that climbs riseDBPerSecond.
func NewSpeechRule(marginDB float64, minLevel Level, riseDBPerSecond float64) SpeechRule {
	framesPerSecond := float64(time.Second / FrameDuration)
	return SpeechRule{
		min:       minLevel.Power(),
		margin:    float32(math.Pow(10, marginDB/10)),
		risePer:   float32(math.Pow(10, riseDBPerSecond/framesPerSecond/10)),
		smoothing: floorSmoothing,
	}
}

// NoiseFloor tracks the background under one stream, frame by frame, and tells speech from it.
// Its zero value knows nothing: the first frame measured is taken as background (a participant
// who joins with a fan running is not a talker; one who speaks at once pauses soon enough).
//
// The floor is a minimum tracker in the power domain: it falls at once to a quieter (briefly
// smoothed) power and otherwise climbs slowly (SpeechRule's rise). Speech dips between
// syllables every few hundred milliseconds, so under a talker the floor stays at the room's
// background; a fan never dips, so the floor rises under it and it stops being speech.
// Smoothing the power over a few frames keeps a single lost or near-silent frame (a loss
// concealment fading out) from dragging the floor to nothing, after which any noise would read
// as speech until the floor had climbed back, 3 dB a second.
//
// It allocates nothing and owns nothing; time is the count of frames measured.
type NoiseFloor struct {
	smoothed float32 // briefly smoothed power, linear
	floor    float32 // tracked noise floor, linear power
	known    bool
}

// Measure feeds one frame's power (relative to full scale: Level.Power, PowerOfMeanSquare) to
// the tracker. It reports whether the frame is loud enough to be speech at all (the rule's
// minimum) and whether it stands clear of the floor (the rule's margin); speech is both.
func (n *NoiseFloor) Measure(power float32, r *SpeechRule) (loud, clear bool) {
	if !n.known {
		n.smoothed, n.floor, n.known = power, power, true
	} else {
		n.smoothed += r.smoothing * (power - n.smoothed)
		if n.smoothed < n.floor {
			n.floor = n.smoothed
		} else {
			n.floor *= r.risePer
		}
	}
	return power >= r.min, power >= n.floor*r.margin
}

// Smoothed returns the briefly smoothed power the floor follows down (0 before the first frame).
func (n *NoiseFloor) Smoothed() float32 { return n.smoothed }

// Floor returns the tracked noise floor as linear power (0 before the first frame).
func (n *NoiseFloor) Floor() float32 { return n.floor }

// levelPower maps every Level (-127..0 dBov) to linear power relative to full scale.
var levelPower = func() (t [128]float32) {
	for i := range t {
		t[i] = float32(math.Pow(10, -float64(i)/10))
	}
	return t
}()

// Power returns l as linear power relative to full scale (0 dBov is 1), from a table: it is
// what a NoiseFloor measures. Levels above 0 count as 0 dBov, below Silence as Silence.
func (l Level) Power() float32 {
	return levelPower[-int(min(max(l, Silence), 0))]
}

// PowerOfMeanSquare returns the mean square of 16-bit samples as power relative to full scale,
// the reference of every Level (a full-scale square wave).
func PowerOfMeanSquare(ms float64) float64 { return ms / fullScaleSquare }
