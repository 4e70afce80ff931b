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

// observe feeds one tick's activity to the detector. act.Voice (the RFC 6464 V flag) is a hint
// from a sender who has a better detector than a level: it makes a level above the absolute
// threshold count as voice even when it sits on the floor.
func (v *voiceTrack) observe(present bool, lvl codec.Level, hint bool, now time.Time, vp *voiceParams) {
	v.level = codec.Silence
	v.voice = false
	if present {
		v.level = lvl
		pw := power(lvl)
		if !v.floorKnown {
			// The first thing heard is taken as background: a participant who joins with
			// a fan running is never a talker, one who speaks first dips soon enough.
			v.powSmooth, v.floor, v.floorKnown = pw, pw, true
		} else {
			v.powSmooth += vp.smoothing * (pw - v.powSmooth)
			if v.powSmooth < v.floor {
				v.floor = v.powSmooth
			} else {
				v.floor *= vp.riseTick
			}
		}
		v.voice = lvl >= vp.minVoice && (pw >= v.floor*vp.margin || hint)
	}
	if l := float32(v.level); l >= v.rank {
		v.rank = l
	} else if v.rank -= vp.release; v.rank < l {
		v.rank = l
	}
	if v.voice {
		v.lastVoice = now
	}
	v.talking = v.voice || (!v.lastVoice.IsZero() && now.Sub(v.lastVoice) <= vp.hold)
}
