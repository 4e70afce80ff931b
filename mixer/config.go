package mixer

import (
	"cmp"
	"log/slog"
	"time"

	"confd/codec"
)

// Config holds the mixer's tuning. Every zero value is a documented default, so Config{} is a
// complete configuration.
type Config struct {
	// TopK is how many talkers are mixed at most (the K loudest voice-active participants).
	// Zero means 3: conversation rarely has more than two people speaking at once, and every
	// mixed talker costs a private encode. At most MaxTopK.
	TopK int
	// Hold is how long a talker stays selected after its voice stops, so that the pauses
	// between words do not drop it from the mix. Zero means 200 ms.
	Hold time.Duration
	// SwitchMarginDB is how much louder, in dB, a new talker must be than the quietest mixed
	// one to replace it when all TopK places are taken (hysteresis against flapping between
	// talkers of similar level). Zero means 3 dB; negative means 0.
	SwitchMarginDB float64
	// VoiceMarginDB is how far, in dB, a level must stand above the participant's tracked
	// noise floor to count as voice. Zero means 9 dB.
	VoiceMarginDB float64
	// MinVoiceLevel is the absolute level, in dBov, below which nothing counts as voice.
	// Zero means -60 dBov.
	MinVoiceLevel codec.Level
	// NoiseFloorRiseDBPerSecond is how fast the tracked noise floor climbs towards a steady
	// level (it falls at once to a quieter level held for a few ticks: codec.NoiseFloor). Zero
	// means 3 dB/s: a word is far shorter than the time the floor needs to catch up with it,
	// while a fan is absorbed.
	NoiseFloorRiseDBPerSecond float64
	// PrivateLinger is how long a listener keeps its private encoder after its mix has become
	// the shared one again (a talker that stopped, a custom gain no longer relevant), so that
	// a talker pausing between sentences does not bounce between encoders. Zero means 500 ms.
	PrivateLinger time.Duration
	// NewEncoder makes the encoder of an output group. Nil means codec.NewEncoder.
	NewEncoder func(codec.Format) (codec.Encoder, error)
}

// DefaultTopK is the TopK of a Config that asks for none (0).
const DefaultTopK = 3

// MaxTopK is the largest TopK a Config may ask for.
const MaxTopK = 16

// MaxGain is the largest gain of a matrix pair (docs/SPEC.md: 0 to 4, linear).
const MaxGain = 4

func (c Config) withDefaults() Config {
	if c.TopK <= 0 {
		c.TopK = DefaultTopK
	}
	if c.TopK > MaxTopK {
		c.TopK = MaxTopK
	}
	if c.Hold <= 0 {
		c.Hold = 200 * time.Millisecond
	}
	c.SwitchMarginDB = cmp.Or(c.SwitchMarginDB, 3)
	if c.SwitchMarginDB < 0 {
		c.SwitchMarginDB = 0
	}
	if c.VoiceMarginDB <= 0 {
		c.VoiceMarginDB = codec.DefaultSpeechMarginDB
	}
	c.MinVoiceLevel = cmp.Or(c.MinVoiceLevel, -60)
	if c.NoiseFloorRiseDBPerSecond <= 0 {
		c.NoiseFloorRiseDBPerSecond = codec.DefaultNoiseFloorRiseDBPerSecond
	}
	if c.PrivateLinger <= 0 {
		c.PrivateLinger = 500 * time.Millisecond
	}
	if c.NewEncoder == nil {
		c.NewEncoder = codec.NewEncoder
	}
	return c
}

// Option changes how a Mixer reports, not what it mixes.
type Option func(*Mixer)

// WithLogger sets the logger for joins, leaves and encoder failures (never per packet). The
// default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(m *Mixer) {
		if l != nil {
			m.log = l
		}
	}
}
