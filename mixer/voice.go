package mixer

import (
	"time"

	"confd/codec"
)

// voiceTrack is one participant's talker detector: its level, the noise floor tracked under it
// (codec.NoiseFloor, the one the preprocessor's AGC keeps too), and the hold that keeps a talker
// talking through the pauses between words.
type voiceTrack struct {
	level      codec.Level      // the tick's level (Silence when nothing arrived)
	rank       float32          // level for ranking in dB: instant attack, slow release
	floor      codec.NoiseFloor // smoothed power and the floor under it
	voice      bool             // this tick's level counts as voice
	talking    bool             // voice now or within Hold
	lastVoice  time.Time
	steady     int    // consecutive ticks whose level stayed within 2 dB of its smoothed level
	periodic   bool   // the last periodicity verdict (see periodic)
	periodicAt uint64 // the tick from which that verdict is stale
}

// voiceParams are Config's detector settings turned into per-tick linear factors once.
type voiceParams struct {
	minVoice codec.Level
	speech   codec.SpeechRule
	hold     time.Duration
	release  float32 // dB per tick the rank level falls
}

func newVoiceParams(c Config) voiceParams {
	return voiceParams{
		minVoice: c.MinVoiceLevel,
		speech:   codec.NewSpeechRule(c.VoiceMarginDB, c.MinVoiceLevel, c.NoiseFloorRiseDBPerSecond),
		hold:     c.Hold,
		release:  0.25,
	}
}

// measure feeds one tick's level to the detector: it updates the floor and the ranking level,
// and reports whether the level is loud enough to be voice at all and whether it stands clear
// of the floor.
func (v *voiceTrack) measure(present bool, lvl codec.Level, vp *voiceParams) (loud, clear bool) {
	v.level = codec.Silence
	if present {
		v.level = lvl
		pw := lvl.Power()
		loud, clear = v.floor.Measure(pw, &vp.speech)
		if s := v.floor.Smoothed(); pw < s*steadyBand && pw*steadyBand > s {
			v.steady++
		} else {
			v.steady = 0
		}
	}
	if l := float32(v.level); l >= v.rank {
		v.rank = l
	} else if v.rank -= vp.release; v.rank < l {
		v.rank = l
	}
	return loud, clear
}

// decide records whether this tick is voice, and holds talking for Hold after the last voice.
func (v *voiceTrack) decide(voice bool, now time.Time, vp *voiceParams) {
	v.voice = voice
	if voice {
		v.lastVoice = now
	}
	v.talking = voice || (!v.lastVoice.IsZero() && now.Sub(v.lastVoice) <= vp.hold)
}

// steadyBand is ±2 dB as a power ratio: speech leaves it several times a second (syllables),
// a fan or a tone never does.
const steadyBand = 1.585

// steadyTicks is how long a level must stay in steadyBand (0.5 s) before it is suspected of being
// a fan even though it stands above its floor (a fan switched on mid-call, before the floor has
// climbed to it).
const steadyTicks = 25

// periodicTicks is how long a periodicity verdict stands (0.5 s), so that a steady signal costs
// at most one probe decode and one check every 25 ticks.
const periodicTicks = 25

// periodicThreshold is the normalised autocorrelation above which a frame counts as periodic.
// White noise reads about 0.2 at worst over the lags searched; a tone or a voiced vowel 0.8-1.
const periodicThreshold = 0.6

// periodic reports whether f is periodic with a period between 1 and 10 ms (100-1000 Hz, the
// range of voice pitch and of test tones): the largest normalised autocorrelation over those
// lags, on the frame decimated to 12 kHz. A level cannot tell a steady tone or a sustained
// vowel from a fan — both sit on their own noise floor — but a fan's broadband noise is not
// periodic. About 20k multiply-adds; it runs only for loud signals that sit on their floor.
func periodic(f *codec.Frame) bool {
	const n = codec.FrameSamples / 4
	var d [n]float32
	var mean float32
	for i := range d {
		d[i] = float32(int32(f[4*i]) + int32(f[4*i+1]) + int32(f[4*i+2]) + int32(f[4*i+3]))
		mean += d[i]
	}
	mean /= n
	var total float32
	for i := range d {
		d[i] -= mean
		total += d[i] * d[i]
	}
	if total == 0 {
		return false
	}
	const minLag, maxLag = n / 20, n / 2 // 1 ms and 10 ms at 12 kHz
	head, tail := total, total           // energy of d[:n-lag] and of d[lag:]
	for lag := 1; lag <= maxLag; lag++ {
		head -= d[n-lag] * d[n-lag]
		tail -= d[lag-1] * d[lag-1]
		if lag < minLag {
			continue
		}
		var c float32
		for i := range n - lag {
			c += d[i] * d[i+lag]
		}
		if c > 0 && c*c > periodicThreshold*periodicThreshold*head*tail {
			return true
		}
	}
	return false
}
