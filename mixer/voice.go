package mixer

import (
	"math"
	"time"

	"confd/codec"
)

// voiceTrack is one participant's talker detector: its level, a noise floor tracked under it,
// and the hold that keeps a talker talking through the pauses between words.
//
// The floor is a minimum tracker in the power domain: it falls at once to a quieter (briefly
// smoothed) level and otherwise climbs slowly (Config.NoiseFloorRiseDBPerSecond). Speech dips
// between syllables every few hundred milliseconds, so under a talker the floor stays at the
// room's background; a fan never dips, so the floor rises under it and it stops being voice.
// Smoothing the power over a few ticks keeps a single lost or silent frame from dragging the
// floor to -127 dBov, after which any fan would read as voice for the rest of the minute.
type voiceTrack struct {
	level      codec.Level // the tick's level (Silence when nothing arrived)
	rank       float32     // level for ranking in dB: instant attack, slow release
	powSmooth  float32     // briefly smoothed power, linear
	floor      float32     // tracked noise floor, linear power
	floorKnown bool
	voice      bool // this tick's level counts as voice
	talking    bool // voice now or within Hold
	lastVoice  time.Time
	steady     int    // consecutive ticks whose level stayed within 2 dB of its smoothed level
	periodic   bool   // the last periodicity verdict (see periodic)
	periodicAt uint64 // the tick from which that verdict is stale
}

// powerOf maps every Level (-127..0 dBov) to linear power relative to full scale.
var powerOf = func() (t [128]float32) {
	for i := range t {
		t[i] = float32(math.Pow(10, -float64(i)/10))
	}
	return t
}()

func power(l codec.Level) float32 {
	if l > 0 {
		l = 0
	}
	if l < codec.Silence {
		l = codec.Silence
	}
	return powerOf[-int(l)]
}

// voiceParams are Config's detector settings turned into per-tick linear factors once.
type voiceParams struct {
	minVoice  codec.Level
	margin    float32 // linear power ratio above the floor
	riseTick  float32 // floor growth per tick, linear
	hold      time.Duration
	smoothing float32 // EMA weight of the newest power
	release   float32 // dB per tick the rank level falls
}

func newVoiceParams(c Config) voiceParams {
	ticksPerSecond := float64(time.Second / codec.FrameDuration)
	return voiceParams{
		minVoice:  c.MinVoiceLevel,
		margin:    float32(math.Pow(10, c.VoiceMarginDB/10)),
		riseTick:  float32(math.Pow(10, c.NoiseFloorRiseDBPerSecond/ticksPerSecond/10)),
		hold:      c.Hold,
		smoothing: 0.3,
		release:   0.25,
	}
}

// measure feeds one tick's level to the detector: it updates the floor and the ranking level,
// and reports whether the level is loud enough to be voice at all and whether it stands clear
// of the floor.
func (v *voiceTrack) measure(present bool, lvl codec.Level, vp *voiceParams) (loud, clear bool) {
	v.level = codec.Silence
	if present {
		v.level = lvl
		pw := power(lvl)
		if !v.floorKnown {
			// The first thing heard is taken as background: a participant who joins with
			// a fan running is never a talker; one who speaks at once dips soon enough, or
			// is periodic (see periodic).
			v.powSmooth, v.floor, v.floorKnown = pw, pw, true
		} else {
			v.powSmooth += vp.smoothing * (pw - v.powSmooth)
			if v.powSmooth < v.floor {
				v.floor = v.powSmooth
			} else {
				v.floor *= vp.riseTick
			}
		}
		loud, clear = lvl >= vp.minVoice, pw >= v.floor*vp.margin
		if pw < v.powSmooth*steadyBand && pw*steadyBand > v.powSmooth {
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
