package codec

import "math"

// Level is an audio level in dBov, on the scale of RFC 6464 (client-to-mixer audio level): 0 is
// the loudest a full-scale signal can be, -127 is silence, and the values between are negative
// dB relative to the overload point (a full-scale square wave). A Level is what talker selection
// compares, whether it came from a browser's header extension, from G.711 energy or from decoded
// PCM.
type Level int8

// Silence is the lowest Level, -127 dBov, which RFC 6464 uses for digital silence.
const Silence Level = -127

// LevelOf returns the level of pcm as RFC 6464 section 4 defines it: the RMS of the samples in
// dB relative to full scale, rounded towards silence, clamped to [-127, 0]. It allocates nothing.
func LevelOf(pcm []int16) Level {
	if len(pcm) == 0 {
		return Silence
	}
	var sum uint64
	for _, s := range pcm {
		v := int64(s)
		sum += uint64(v * v)
	}
	return levelFromMeanSquare(float64(sum) / float64(len(pcm)))
}

// fullScaleSquare is the mean square of a full-scale square wave, the 0 dBov reference.
const fullScaleSquare = 32768.0 * 32768.0

// levelFromMeanSquare converts a mean square of 16-bit samples to a Level.
func levelFromMeanSquare(ms float64) Level {
	if ms <= 0 {
		return Silence
	}
	db := 10 * math.Log10(PowerOfMeanSquare(ms))
	if db <= -127 {
		return Silence
	}
	if db >= 0 {
		return 0
	}
	return Level(math.Floor(db))
}

// DBov returns l as a float64 number of dB, for arithmetic and printing.
func (l Level) DBov() float64 { return float64(l) }

// Activity is what a participant's input holds for one tick, known before anything is decoded:
// the first phase of a mixer tick reads it from every participant to choose the talkers, and only
// the chosen ones (and those whose level is unknown) are then decoded.
type Activity struct {
	// Present is true when the tick has audio to play: a packet, or a loss to conceal. It is
	// false when the input has nothing (no stream yet, an empty buffer, DTX silence).
	Present bool
	// LevelKnown is true when Level was learnt without decoding: the RFC 6464 header extension,
	// the energy of G.711 samples, or an Opus DTX frame (silence).
	LevelKnown bool
	// Level is the tick's audio level when LevelKnown.
	Level Level
	// Voice is the RFC 6464 voice-activity flag when the sender set one.
	Voice bool
	// Unvoiced is true when the level is not known but every packet of the tick says it holds
	// no speech (the SILK voice activity flag of an Opus packet sent without DTX,
	// OpusVoiceActivity): a mixer need not decode it to choose the talkers, unless its sender
	// is talking already (a steady tone loses the flag while it stays loud).
	Unvoiced bool
}
