package mixer

import "confd/codec"

// cutSamples is how long a rule (mute, a role change) takes to silence a mixed voice: 2.5 ms,
// short enough that the tick in which the rule applies carries almost none of it, long enough
// not to click.
const cutSamples = codec.SampleRate / 400

// applyFade shapes a contributor's frame, in place, for how it enters this tick's mixes. The
// ramps are linear over one frame: a crossfade between an outgoing and an incoming talker keeps
// the sum's envelope continuous, so a switch leaves no step to click.
func applyFade(f *codec.Frame, how fade) {
	const n = codec.FrameSamples
	switch how {
	case fadeIn:
		for i := range f {
			f[i] = int16(int32(f[i]) * int32(i) / n)
		}
	case fadeOut:
		for i := range f {
			f[i] = int16(int32(f[i]) * int32(n-i) / n)
		}
	case fadeCut:
		for i := range cutSamples {
			f[i] = int16(int32(f[i]) * int32(cutSamples-i) / cutSamples)
		}
		clear(f[cutSamples:])
	}
}

// applyWeight returns f as the shared mix takes it: itself, nothing, or ramped into scratch.
func applyWeight(f, scratch *codec.Frame, w weight) *codec.Frame {
	switch w {
	case weightZero:
		return nil
	case weightUp:
		*scratch = *f
		applyFade(scratch, fadeIn)
		return scratch
	case weightDown:
		*scratch = *f
		applyFade(scratch, fadeOut)
		return scratch
	}
	return f
}

// accumulator is one mix being summed, in int32 so that no sum of frames can wrap.
type accumulator [codec.FrameSamples]int32

// add sums f into a at unity gain.
func (a *accumulator) add(f *codec.Frame) {
	for i, s := range f {
		a[i] += int32(s)
	}
}

// addGain sums f into a at a Q14 gain (0 to 4.0 = 65536; 32767·65536 fits in an int32).
func (a *accumulator) addGain(f *codec.Frame, q14 int32) {
	for i, s := range f {
		a[i] += (int32(s) * q14) >> 14
	}
}

// minusOne writes shared minus f into a: a talker's mix is everyone but itself, subtracted
// before limiting so that the limiter never sees (or distorts) its own voice.
func (a *accumulator) minusOne(shared *accumulator, f *codec.Frame) {
	for i, s := range f {
		a[i] = shared[i] - int32(s)
	}
}

// limiterKnee is where the soft limiter starts to bend: -6 dBFS. Below it the mix passes
// untouched, so a few talkers at speech levels are summed exactly.
const limiterKnee = 16384

// limiterRange is the headroom the limiter compresses everything above the knee into.
const limiterRange = 32767 - limiterKnee

// limit converts a to int16 through a soft knee: above limiterKnee the excess x is mapped to
// knee + x·R/(x+R), which has slope 1 at the knee (no kink) and tends to full scale without
// reaching it, so ten loud talkers stay bounded and never wrap around. Unlike tanh it costs one
// division, and only for samples above the knee.
func (a *accumulator) limit(out *codec.Frame) { limitInto(a[:], out[:]) }

// limitInto is limit for any length: out must be as long as in.
func limitInto(in []int32, out []int16) {
	out = out[:len(in)]
	for i, x := range in {
		switch {
		case x > limiterKnee:
			over := int64(x) - limiterKnee
			out[i] = int16(limiterKnee + over*limiterRange/(over+limiterRange))
		case x < -limiterKnee:
			over := -limiterKnee - int64(x)
			out[i] = int16(-limiterKnee - over*limiterRange/(over+limiterRange))
		default:
			out[i] = int16(x)
		}
	}
}
