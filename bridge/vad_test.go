package bridge

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"confd/codec"
	"confd/testkit/audiotest"
)

// TestSilentOpusPhonesAreNotDecoded is issue 9 item 1's "decode only what can be heard" for
// phones that send Opus every 20 ms without DTX or RFC 6464 levels: ten of them with an open
// microphone in a quiet room (-70 dBFS noise) are decoded only once every 10 ticks each, for
// their level (their SILK voice activity flags say there is no speech), while two talkers with
// steady tones (which libopus stops flagging as speech after about 600 ms) are decoded and stay
// talkers for the whole 6 s.
func TestSilentOpusPhonesAreNotDecoded(t *testing.T) {
	b := New(Config{})
	b.noClock = true
	var phones []*testPhone
	for i := range 12 {
		c := codec.Opus
		if i == 1 {
			c = codec.PCMU
		}
		capture := audiotest.NewTone(440+300*float64(i), 0.15, codec.SampleRate).Fill
		if i >= 2 {
			capture = noise(-70, uint64(i))
		}
		phones = append(phones, joinTestPhone(t, b, "vad", "p", codec.Format{Codec: c, NoDTX: true}, testPT(c), uint32(i+1), capture, &countingLeg{}))
	}
	r, _ := b.Room("vad")
	now := time.Unix(1000, 0)
	var decodes0 uint64
	for i := range 300 {
		for _, ph := range phones {
			ph.push(t, now)
		}
		now = now.Add(codec.FrameDuration)
		r.between()
		r.tick(now)
		if i == 99 {
			decodes0 = r.MixerStats().Decodes
		}
	}
	// 200 ticks: the talkers' 2 decodes in each, and a tenth of the ten quiet phones'.
	if d := r.MixerStats().Decodes - decodes0; d > 200*2+200*10/10 {
		t.Errorf("%d decodes in 200 ticks, want at most %d", d, 200*2+200*10/10)
	}
	st := r.State()
	for i, p := range st.Participants {
		if talking := i < 2; p.Talking != talking {
			t.Errorf("participant %d talking %v after 6 s, want %v", i, p.Talking, talking)
		}
	}
}

// noise returns a capture of white noise at about dBFS (RMS), an open microphone in a quiet room.
func noise(dBFS float64, seed uint64) func([]int16) {
	rng := rand.New(rand.NewPCG(seed, 1))
	amp := 32767 * math.Pow(10, dBFS/20) * math.Sqrt(3)
	return func(pcm []int16) {
		for i := range pcm {
			pcm[i] = int16((rng.Float64()*2 - 1) * amp)
		}
	}
}
