package mixer

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/hraban/opus.v2"

	"confd/codec"
	"confd/testkit/audiotest"
)

var opusStereo = codec.Format{Codec: codec.Opus, Stereo: true}

// channels splits interleaved stereo PCM into left and right.
func channels(pcm []int16) (l, r []int16) {
	for i := 0; i+1 < len(pcm); i += 2 {
		l, r = append(l, pcm[i]), append(r, pcm[i+1])
	}
	return l, r
}

func stereoLevels(h *harness, id ID, freq float64) (l, r float64) {
	left, right := channels(h.heard[id])
	return audiotest.ToneLevel(left, codec.SampleRate, freq), audiotest.ToneLevel(right, codec.SampleRate, freq)
}

// panRoom is a talker (1, a 440 Hz tone at -20 dBFS), a silent participant (2) whose pan keeps
// the room panned, a stereo listener (10), a mono Opus listener (11) and a G.711 listener whose
// Format asks for stereo, which G.711 cannot do (12).
func panRoom(t *testing.T, pans bool) *harness {
	h, _ := talkerAndListener(t)
	if pans {
		h.add(10, nil, opusStereo)
	} else {
		h.add(10, nil, opus20)
	}
	h.add(11, nil, opus20)
	h.add(12, nil, codec.Format{Codec: codec.PCMU, Stereo: true})
	return h
}

// TestPanPlacesAVoiceWithConstantPower: a tone panned hard left, centre and hard right reaches a
// stereo listener on the left only, at -3 dB on both sides, and on the right only; mono listeners
// hear exactly (bit for bit) what they hear in the same room without any pan or stereo listener.
func TestPanPlacesAVoiceWithConstantPower(t *testing.T) {
	for _, tc := range []struct {
		pan         float32
		left, right float64 // dBFS; NaN: inaudible
	}{
		{-1, toneDB, math.NaN()},
		{0, toneDB - 3, toneDB - 3},
		{1, math.NaN(), toneDB},
		{-0.5, toneDB + 20*math.Log10(math.Cos(math.Pi/8)), toneDB + 20*math.Log10(math.Sin(math.Pi/8))},
	} {
		h, plain := panRoom(t, true), panRoom(t, false)
		must(t, h.m.SetPan(2, 0.25)) // the room is panned even when the talker is centred
		must(t, h.m.SetPan(1, tc.pan))
		if !h.m.Stereo(10) || h.m.Stereo(11) || h.m.Stereo(12) || h.m.Pan(1) != tc.pan {
			t.Fatalf("pan %v: stereo 10/11/12 = %v/%v/%v", tc.pan, h.m.Stereo(10), h.m.Stereo(11), h.m.Stereo(12))
		}
		for _, r := range []*harness{h, plain} {
			r.run(10, false)
			r.run(25, true)
		}
		l, r := stereoLevels(h, 10, 440)
		check := func(side string, got, want float64) {
			if math.IsNaN(want) && got > toneDB-50 || !math.IsNaN(want) && math.Abs(got-want) > 0.5 {
				t.Errorf("pan %v: %s at %.1f dBFS, want %.1f", tc.pan, side, got, want)
			}
		}
		check("left", l, tc.left)
		check("right", r, tc.right)
		t.Logf("pan %+.2f: left %.1f dBFS, right %.1f dBFS", tc.pan, l, r)
		for _, id := range []ID{11, 12} {
			if len(h.heard[id]) == 0 || !slices.Equal(h.heard[id], plain.heard[id]) {
				t.Errorf("pan %v: mono listener %d hears something else than in a room without pans", tc.pan, id)
			}
		}
	}
}

// TestARoomWithoutPansSharesTheMonoEncoders: stereo-capable listeners in a room where nobody is
// panned share the mono groups, so the room encodes exactly what an all-mono room does; the
// first pan adds one stereo shared encode (plus the stereo talkers' own mixes), and the last
// pan's return to 0 takes it away.
func TestARoomWithoutPansSharesTheMonoEncoders(t *testing.T) {
	build := func(stereo bool) *harness {
		h := newHarness(t, Config{})
		f := opus20
		if stereo {
			f = opusStereo
		}
		for i := range 3 {
			h.add(ID(i+1), newTone(freqs[i], toneAmp, true), opus20) // mono talkers
		}
		for i := range 6 {
			h.add(ID(10+i), nil, f) // listeners
		}
		h.add(20, nil, opus20) // a mono listener keeps the mono shared mix in use
		h.run(20, false)
		return h
	}
	mono, st := build(false), build(true)
	ms, ss := mono.m.Stats(), st.m.Stats()
	if ss.StereoListeners != 0 || ss.EncodesLastTick != ms.EncodesLastTick || ss.EncodersMade != ms.EncodersMade {
		t.Fatalf("no pans: stereo-capable room %+v, mono room %+v", ss, ms)
	}
	if g := st.m.OutputGroup(10); g != mono.m.OutputGroup(10) || strings.Contains(g, "stereo") {
		t.Fatalf("no pans: a stereo-capable listener hears %q", g)
	}
	must(t, st.m.SetPan(1, -1))
	st.run(5, false)
	ss = st.m.Stats()
	if ss.StereoListeners != 6 || ss.EncodesLastTick != ms.EncodesLastTick+1 {
		t.Errorf("one pan: %d stereo listeners, %d encodes a tick; want 6 and %d (one stereo shared mix)",
			ss.StereoListeners, ss.EncodesLastTick, ms.EncodesLastTick+1)
	}
	for i := range 6 {
		if g := st.m.OutputGroup(ID(10 + i)); !strings.HasPrefix(g, "shared") || !strings.Contains(g, "stereo") {
			t.Errorf("one pan: listener %d hears %q, want the shared stereo group", 10+i, g)
		}
	}
	if g := st.m.OutputGroup(1); strings.Contains(g, "stereo") {
		t.Errorf("a mono talker hears %q", g)
	}
	must(t, st.m.SetPan(1, 0))
	st.run(5, false)
	if ss = st.m.Stats(); ss.StereoListeners != 0 || ss.EncodesLastTick != ms.EncodesLastTick {
		t.Errorf("pan back to 0: %d stereo listeners, %d encodes a tick; want 0 and %d", ss.StereoListeners, ss.EncodesLastTick, ms.EncodesLastTick)
	}
}

// TestPairPanOverridesTheSpeakersPan: a matrix pair's pan places the speaker for that listener
// alone (a private stereo mix); a stereo talker hears the others placed and never itself; a pair
// pan alone (no room pan) makes only its listener stereo.
func TestPairPanOverridesTheSpeakersPan(t *testing.T) {
	h := newHarness(t, Config{})
	h.add(1, newTone(440, toneAmp, true), opus20)
	h.add(2, newTone(1000, toneAmp, true), opusStereo) // a stereo talker
	h.add(10, nil, opusStereo)
	h.add(11, nil, opusStereo)
	must(t, h.m.SetPairPan(10, 1, 1))
	if !h.m.Stereo(10) || h.m.Stereo(11) || h.m.Stereo(2) {
		t.Fatalf("pair pan only: stereo 10/11/2 = %v/%v/%v, want only 10", h.m.Stereo(10), h.m.Stereo(11), h.m.Stereo(2))
	}
	if got := h.m.Matrix(); len(got) != 1 || got[0] != (Pair{Listener: 10, Speaker: 1, Gain: 1, Pan: 1, Panned: true}) {
		t.Fatalf("matrix %+v", got)
	}
	must(t, h.m.SetPan(1, -1))
	h.run(10, false)
	h.run(25, true)
	type want struct {
		id          ID
		freq        float64
		left, right bool // audible on that side
	}
	for _, w := range []want{
		{10, 440, false, true}, // the pair's pan, not the speaker's
		{11, 440, true, false},
		{2, 440, true, false},
		{2, 1000, false, false}, // nobody hears itself
		{10, 1000, true, true},  // centred
	} {
		l, r := stereoLevels(h, w.id, w.freq)
		if (l > toneDB-10) != w.left || (r > toneDB-10) != w.right {
			t.Errorf("listener %d, %v Hz: left %.1f, right %.1f dBFS; want audible left %v right %v", w.id, w.freq, l, r, w.left, w.right)
		}
	}
	if s := h.m.Stats(); s.StereoListeners != 3 {
		t.Errorf("%d stereo listeners, want 3", s.StereoListeners)
	}
	if g := h.m.OutputGroup(10); !strings.HasPrefix(g, "private") {
		t.Errorf("listener 10 with its own pan hears %q, want a private group", g)
	}
	must(t, h.m.SetGain(10, 1, 0.5)) // keeps the pan
	if got := h.m.Matrix(); !got[0].Panned || got[0].Pan != 1 {
		t.Errorf("SetGain dropped the pan: %+v", got)
	}
	for _, err := range []error{h.m.SetPan(1, 1.5), h.m.SetPairPan(10, 1, float32(math.NaN())),
		h.m.SetMatrix([]Pair{{Listener: 10, Speaker: 1, Gain: 1, Pan: -2, Panned: true}})} {
		if !errors.Is(err, ErrBadPan) {
			t.Errorf("bad pan: %v, want ErrBadPan", err)
		}
	}
	must(t, h.m.Remove(1)) // the panned speaker leaves: nobody is panned any more
	if h.m.Stereo(10) || h.m.Stereo(11) || h.m.Stereo(2) {
		t.Error("stereo listeners stayed stereo after the only panned speaker left")
	}
}

// TestStereoTickAllocatesNothing: a panned room with stereo and mono listeners, talkers coming and
// going, allocates nothing per tick.
func TestStereoTickAllocatesNothing(t *testing.T) {
	h := newHarness(t, Config{})
	srcs := []*toneSource{}
	for i := range 4 {
		s := newTone(freqs[i], toneAmp, i%2 == 0)
		srcs = append(srcs, s)
		f := opus20
		if i%2 == 1 {
			f = opusStereo
		}
		h.add(ID(i+1), s, f)
		must(t, h.m.SetPan(ID(i+1), float32(i)/2-0.75))
	}
	h.add(10, nil, opusStereo)
	h.add(11, nil, opus20)
	must(t, h.m.SetPairPan(10, 2, 1))
	h.run(50, false)
	n := 0
	tick := func() {
		n++
		srcs[n%4].paused = n%40 < 20
		h.run(1, false)
	}
	if a := testing.AllocsPerRun(200, tick); a != 0 {
		t.Errorf("%.1f allocations per tick", a)
	}
}

// TestStereoPacketsLongerThanATick: a stereo listener with 40 ms packets gets whole interleaved
// packets (two ticks of left/right pairs), placed as with 20 ms.
func TestStereoPacketsLongerThanATick(t *testing.T) {
	h := newHarness(t, Config{})
	h.add(1, newTone(440, toneAmp, true), opus20)
	h.add(10, nil, codec.Format{Codec: codec.Opus, Stereo: true, PacketTime: 40 * time.Millisecond})
	must(t, h.m.SetPan(1, 1))
	h.run(10, false)
	h.run(40, true)
	l, r := stereoLevels(h, 10, 440)
	if r < toneDB-0.5 || r > toneDB+0.5 || l > toneDB-50 {
		t.Errorf("40 ms stereo packets: left %.1f, right %.1f dBFS; want the tone right at %.0f", l, r, toneDB)
	}
	if n := len(h.heard[10]); n != 40*2*codec.FrameSamples {
		t.Errorf("heard %d samples, want %d", n, 40*2*codec.FrameSamples)
	}
}

// TestStereoThroughRealOpus: a stereo-capable listener's one decoder (libopus, two channels, as a
// browser that offered stereo=1 has) follows the room from mono to stereo when the talker is
// panned left, then right, then back to the centre (mono again): every packet decodes, and the
// tone moves between the channels.
func TestStereoThroughRealOpus(t *testing.T) {
	m := New(Config{NewEncoder: codec.NewEncoder})
	must(t, m.Add(1, ParticipantConfig{Source: newTone(440, toneAmp, true), Format: opus20}))
	must(t, m.Add(10, ParticipantConfig{Format: opusStereo}))
	dec, err := opus.NewDecoder(codec.SampleRate, 2)
	must(t, err)
	now := time.Unix(0, 0)
	buf := make([]int16, 2*codec.MaxPacketSamples)
	listen := func(ticks int) (l, r float64) {
		var heard []int16
		for i := range ticks {
			m.Tick(now)
			now = now.Add(codec.FrameDuration)
			out := m.Output(10)
			if !out.Due {
				continue
			}
			var n int
			if out.Payload == nil {
				err = dec.DecodePLC(buf[:2*codec.FrameSamples])
				n = codec.FrameSamples
			} else {
				n, err = dec.Decode(out.Payload, buf)
			}
			if err != nil {
				t.Fatalf("tick %d: %v", i, err)
			}
			if i >= 10 { // after the switch has settled
				heard = append(heard, buf[:2*n]...)
			}
		}
		left, right := channels(heard)
		return audiotest.ToneLevel(left, codec.SampleRate, 440), audiotest.ToneLevel(right, codec.SampleRate, 440)
	}
	for _, step := range []struct {
		pan    float32
		stereo bool
		side   int // -1 left louder, 1 right louder, 0 even
	}{{0, false, 0}, {-1, true, -1}, {1, true, 1}, {0, false, 0}} {
		must(t, m.SetPan(1, step.pan))
		if m.Stereo(10) != step.stereo {
			t.Fatalf("pan %v: stereo %v", step.pan, m.Stereo(10))
		}
		l, r := listen(40)
		t.Logf("pan %+.0f: left %.1f dBFS, right %.1f dBFS", step.pan, l, r)
		switch {
		case l < toneDB-4 && r < toneDB-4:
			t.Errorf("pan %v: the tone is lost (left %.1f, right %.1f)", step.pan, l, r)
		case step.side == -1 && l-r < 20, step.side == 1 && r-l < 20, step.side == 0 && math.Abs(l-r) > 1:
			t.Errorf("pan %v: left %.1f, right %.1f dBFS", step.pan, l, r)
		}
	}
}
