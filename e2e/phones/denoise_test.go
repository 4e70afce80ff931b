package phones

import (
	"context"
	"math"
	"net/http"
	"slices"
	"testing"
	"time"

	"confd/codec"
	"confd/testkit/audiotest"
	"confd/testkit/gophone"
)

// chunk is the piece of audio burstLevel judges at a time (40 ms), gapChunk gapNoise's (20 ms: a
// pause of 160 ms holds several whole ones).
const (
	chunk    = 40 * codec.SampleRate / 1000
	gapChunk = chunk / 2
)

// gapNoise is the level, in dB relative to full scale, of what pcm holds in the pauses between a
// tone's bursts: the mean power of the 20 ms chunks in which the tone (Goertzel) stands at least
// 20 dB below its loudest chunk, as it does in the chunks on both sides (a chunk at a burst's edge
// holds a piece of the tone that its Goertzel window's taper hides). Only the noise is there, so
// neither the tone nor the codec noise that rides on it (G.711's quantisation noise follows the
// signal) counts. Digital silence is left out too: a talker out of the mix for a moment (the
// mixer's detector missed a burst) says nothing about its noise.
func gapNoise(pcm []int16, hz float64) float64 {
	var tones []float64
	for i := 0; i+gapChunk <= len(pcm); i += gapChunk {
		tones = append(tones, audiotest.ToneLevel(pcm[i:i+gapChunk], codec.SampleRate, hz))
	}
	quiet := slices.Max(tones) - 20
	var sum float64
	n := 0
	for i := 1; i+1 < len(tones); i++ {
		c := pcm[i*gapChunk : (i+1)*gapChunk]
		if tones[i-1] < quiet && tones[i] < quiet && tones[i+1] < quiet && slices.ContainsFunc(c, func(v int16) bool { return v != 0 }) {
			sum += math.Pow(10, audiotest.RMS(c)/10)
			n++
		}
	}
	if n == 0 {
		return 0 // no pause found: reads as loud as can be
	}
	return 10 * math.Log10(sum/float64(n))
}

// burstLevel is the level, in dB relative to full scale, of a tone sent in bursts: the mean power
// of the tone (Goertzel) in the loudest half of pcm's 40 ms chunks, which lie inside bursts (the
// tone is on 65% of the time). One Goertzel over the whole window would weigh the bursts by where
// the window's taper puts them, and read a dB or two apart from one window to the next.
func burstLevel(pcm []int16, hz float64) float64 {
	var pows []float64
	for i := 0; i+chunk <= len(pcm); i += chunk {
		pows = append(pows, math.Pow(10, audiotest.ToneLevel(pcm[i:i+chunk], codec.SampleRate, hz)/10))
	}
	slices.Sort(pows)
	loud := pows[len(pows)/2:]
	var sum float64
	for _, p := range loud {
		sum += p
	}
	return 10 * math.Log10(sum/float64(len(loud)))
}

// TestDenoiseLowersTheNoiseOthersHear: Ada, a Go phone on Opus, talks in a noisy room — a 1 kHz
// tone in syllable-like bursts over white noise at -36.5 dBov (17 dB under the tone, which the
// mixer's talker detector needs to follow the bursts). Bob, on Opus too, hears her noise; one PATCH
// {"denoise":true} on Ada later, the noise Bob hears of her between the bursts is at least 10 dB
// lower (18-19 dB in five runs) and her tone within 3 dB of what it was. A PCMU listener reads
// 12-14 dB by the same measure: within G.711's band the noise beside the tone, which the
// suppressor lets through with it, is a larger share (dsp's narrowband test: 11.5 dB).
func TestDenoiseLowersTheNoiseOthersHear(t *testing.T) {
	t.Parallel()
	d := startConfd(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const toneHz = 1000.0
	ada, err := gophone.Call(ctx, gophone.Config{Server: d.sip, User: "ada", Name: "Ada", ToneHz: toneHz, Codec: codec.Opus,
		NoiseRMS: 0.015, ToneBursts: true}, "noisy")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ada.Close() })
	bob := d.call("noisy", "Bob", toneBob, codec.Opus)
	ids := d.waitTalking("noisy", "Ada", "Bob")
	waitSteady(t, []*gophone.Phone{ada, bob}, hearing{bob: {toneHz}}.in)

	m := now()
	if st := d.patch("noisy", ids[0], map[string]any{"denoise": true}); !st.Denoise || st.AGC {
		t.Errorf("PATCH denoise: the answer shows %+v", st)
	}
	// The suppressor's noise estimate forms in the first second: judge from the second after.
	m.at = m.at.Add(time.Second)
	m.waitAfter(t, ada, bob)

	before := bob.Heard(m.beforeEnd.Add(-window), m.beforeEnd)
	after := bob.Heard(m.after, m.after.Add(window))
	toneBefore, toneAfter := burstLevel(before, toneHz), burstLevel(after, toneHz)
	noiseBefore, noiseAfter := gapNoise(before, toneHz), gapNoise(after, toneHz)
	t.Logf("%s hears Ada's tone at %.1f dBFS before and %.1f after, her noise between the bursts at %.1f and %.1f dBFS (%.1f); coverage %s",
		bob, toneBefore, toneAfter, noiseBefore, noiseAfter, noiseAfter-noiseBefore, m.coverage(bob))
	if noiseAfter > noiseBefore-10 {
		t.Errorf("denoise on: the noise Bob hears of Ada went from %.1f to %.1f dB, want at least 10 dB lower", noiseBefore, noiseAfter)
	}
	if math.Abs(toneAfter-toneBefore) > 3 {
		t.Errorf("denoise on: Ada's tone went from %.1f to %.1f dBFS, want within 3 dB", toneBefore, toneAfter)
	}
}

// TestAGCRaisesAQuietTalker: Ada, a Go phone on Opus, talks quietly — a 1 kHz tone in bursts at
// -43 dBov. In a room declared with "agc": true (the room's setting, not a PATCH), Bob on PCMU
// hears her raised towards the -20 dBov target: at least 10 dB louder than Cy hears her in a room
// without it, and not above the target.
func TestAGCRaisesAQuietTalker(t *testing.T) {
	t.Parallel()
	d := startConfd(t, "")
	d.must(http.StatusOK, "PUT", "/api/rooms/loud", map[string]any{"agc": true})
	const toneHz = 1000.0
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	levels := map[string]float64{}
	for _, room := range []string{"loud", "plain"} {
		ada, err := gophone.Call(ctx, gophone.Config{Server: d.sip, User: "ada", Name: "Ada", ToneHz: toneHz, Codec: codec.Opus,
			ToneAmplitude: 0.01, ToneBursts: true}, room)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ada.Close() })
		bob := d.call(room, "Bob", toneBob, codec.PCMU)
		ids := d.waitTalking(room, "Ada", "Bob")
		if st, _ := participant(d.state(room), ids[0]); st.AGC != (room == "loud") {
			t.Errorf("room %s: Ada's agc shows %v", room, st.AGC)
		}
		// AGC rises 12 dB/s on speech, which is on 65% of the time: 20 dB takes about 2.6 s.
		m := now()
		m.at = m.at.Add(3 * time.Second)
		m.waitAfter(t, ada, bob)
		levels[room] = burstLevel(bob.Heard(m.after, m.after.Add(window)), toneHz)
		t.Logf("room %s: Bob hears Ada at %.1f dBFS (%s)", room, levels[room], m.coverage(bob))
	}
	// The tone's amplitude in dBFS reads 3 dB above its RMS in dBov: the target is -17 here.
	if levels["loud"] < levels["plain"]+10 || levels["loud"] > -17+2 {
		t.Errorf("Ada heard at %.1f dBFS with agc and %.1f without: want at least 10 dB more, at most the target (-17 dBFS)",
			levels["loud"], levels["plain"])
	}
}
