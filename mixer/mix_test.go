package mixer

import (
	"testing"
	"time"

	"confd/codec"
)

func TestLimiterIsSoftBoundedAndMonotonic(t *testing.T) {
	var a accumulator
	var out codec.Frame
	prev := int16(-32768)
	for x := int32(-400000); x <= 400000; x += 977 {
		a[0] = x
		a.limit(&out)
		y := out[0]
		switch {
		case x >= -limiterKnee && x <= limiterKnee && int32(y) != x:
			t.Fatalf("below the knee %d became %d", x, y)
		case y < prev:
			t.Fatalf("not monotonic at %d: %d after %d", x, y, prev)
		case y == -32768:
			t.Fatalf("%d reached full scale", x)
		}
		prev = y
	}
	// Slope 1 at the knee: no kink to hear.
	a[0], a[1] = limiterKnee+100, limiterKnee+101
	a.limit(&out)
	if d := out[1] - out[0]; d != 1 && d != 0 {
		t.Errorf("slope just above the knee: %d", d)
	}
}

func TestFades(t *testing.T) {
	var f codec.Frame
	fill := func() {
		for i := range f {
			f[i] = 10000
		}
	}
	fill()
	applyFade(&f, fadeIn)
	if f[0] != 0 || f[codec.FrameSamples-1] < 9980 {
		t.Errorf("fade in: %d … %d", f[0], f[codec.FrameSamples-1])
	}
	fill()
	applyFade(&f, fadeOut)
	if f[0] != 10000 || f[codec.FrameSamples-1] > 20 {
		t.Errorf("fade out: %d … %d", f[0], f[codec.FrameSamples-1])
	}
	fill()
	applyFade(&f, fadeCut)
	if f[0] != 10000 || f[cutSamples] != 0 || f[codec.FrameSamples-1] != 0 {
		t.Errorf("cut: %d, %d, %d", f[0], f[cutSamples], f[codec.FrameSamples-1])
	}
}

func TestTickAllocatesNothingWithRealEncoders(t *testing.T) {
	m := New(Config{})
	srcs := make([]*toneSource, 4)
	for i := range srcs {
		srcs[i] = newTone(freqs[i], toneAmp, i%2 == 0)
		f := opus20
		if i == 3 {
			f = codec.Format{Codec: codec.PCMU}
		}
		must(t, m.Add(ID(i+1), ParticipantConfig{Source: srcs[i], Format: f}))
	}
	must(t, m.Add(9, ParticipantConfig{Format: codec.Format{Codec: codec.PCMA, PacketTime: 40 * time.Millisecond}}))
	now := time.Unix(0, 0)
	step := 0
	tick := func() {
		step++
		for i, s := range srcs {
			s.paused = (step/12+i)%3 == 0
		}
		m.Tick(now)
		now = now.Add(codec.FrameDuration)
	}
	for range 150 {
		tick()
	}
	if a := testing.AllocsPerRun(100, tick); a != 0 {
		t.Errorf("Tick with Opus and G.711 encoders allocates %v times per run", a)
	}
	if st := m.Stats(); st.EncodeErrors != 0 {
		t.Errorf("encode errors %d", st.EncodeErrors)
	}
}
