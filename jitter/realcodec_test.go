package jitter

import (
	"math/rand/v2"
	"testing"
	"time"

	"confd/codec"
	"confd/testkit/audiotest"
)

// toneRun encodes a 1 kHz tone in format f, sends it as payload type pt over a path with the given
// loss and jitter into a default Buffer, and returns what played after the first second, the
// buffer's stats, the tone's SNR and the strongest frequency.
func toneRun(t *testing.T, f codec.Format, pt uint8, seed uint64, loss float64, jitter, dur time.Duration) (out []int16, st Stats, snr, peak float64) {
	t.Helper()
	b, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	out = runTone(t, b, mustEncoder(t, f), pt, f.Codec.ClockRate(), seed, loss, jitter, dur)
	return out, b.Stats(), audiotest.SNR(out, codec.SampleRate, 1000), audiotest.PeakFrequency(out, codec.SampleRate)
}

// mustEncoder returns an encoder for f.
func mustEncoder(t testing.TB, f codec.Format) codec.Encoder {
	t.Helper()
	enc, err := codec.NewEncoder(f)
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// runTone encodes a tone with enc, sends it over a lossy, jittery path into b and returns what
// the playout produced after the first second.
func runTone(t *testing.T, b *Buffer, enc codec.Encoder, pt uint8, clock int, seed uint64, loss float64, jitter time.Duration, dur time.Duration) []int16 {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	tone := audiotest.NewTone(1000, 0.5, codec.SampleRate)
	type sent struct {
		at time.Duration
		p  Packet
	}
	var pkts []sent
	var pcm codec.Frame
	frames := int(dur / codec.FrameDuration)
	for i := range frames {
		tone.Fill(pcm[:])
		payload := make([]byte, codec.MaxPayloadSize)
		n, err := enc.Encode(pcm[:], payload)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 || r.Float64() < loss {
			continue
		}
		at := time.Duration(i)*codec.FrameDuration + 20*time.Millisecond
		if jitter > 0 {
			at += time.Duration(r.Int64N(int64(jitter)))
		}
		pkts = append(pkts, sent{at, Packet{PayloadType: pt, SequenceNumber: uint16(i), Timestamp: uint32(i * clock / 50), SSRC: 7, Payload: payload[:n]}})
	}
	var out []int16
	var f codec.Frame
	for tick := 0; tick < frames+20; tick++ {
		now := time.Duration(tick)*codec.FrameDuration + 7*time.Millisecond
		for _, s := range pkts {
			if s.at <= now && s.at > now-codec.FrameDuration {
				if err := b.Push(s.p, testEpoch.Add(s.at)); err != nil {
					t.Fatal(err)
				}
			}
		}
		b.Advance(testEpoch.Add(now))
		b.Read(&f)
		if tick >= 50 && tick < frames {
			out = append(out, f[:]...)
		}
	}
	return out
}

func TestOpusFECRecoversLostFrames(t *testing.T) {
	out, st, snr, _ := toneRun(t, codec.Format{Codec: codec.Opus, ExpectedLoss: 10}, 111, 9, 0.05, 0, 20*time.Second)
	level := audiotest.ToneLevel(out, codec.SampleRate, 1000)
	t.Logf("stats %+v; tone %.1f dBFS, SNR %.1f dB", st, level, snr)
	if st.FECRecovered == 0 {
		t.Errorf("no frame recovered by FEC with 5%% loss (lost %d)", st.Lost)
	}
	if level < -9 || snr < 10 {
		t.Errorf("1 kHz tone at %.1f dBFS with SNR %.1f dB after 5%% loss, want about -6 dBFS and a clean tone", level, snr)
	}
}

func TestPCMUToneSurvivesJitter(t *testing.T) {
	_, st, snr, peak := toneRun(t, codec.Format{Codec: codec.PCMU}, 0, 10, 0, 40*time.Millisecond, 10*time.Second)
	t.Logf("stats %+v; peak %.1f Hz, SNR %.1f dB", st, peak, snr)
	if peak < 990 || peak > 1010 || st.Late > st.Pushed/100 || snr < 20 {
		t.Errorf("peak %.1f Hz, late %d of %d, SNR %.1f dB: want a clean tone through 40 ms of jitter", peak, st.Late, st.Pushed, snr)
	}
}

func TestOpusToneThroughJitterAndLoss(t *testing.T) {
	_, st, snr, peak := toneRun(t, codec.Format{Codec: codec.Opus, ExpectedLoss: 10}, 111, 12, 0.03, 30*time.Millisecond, 20*time.Second)
	t.Logf("stats %+v; peak %.1f Hz, SNR %.1f dB", st, peak, snr)
	if peak < 990 || peak > 1010 || snr < 15 || st.Late > st.Pushed/100 {
		t.Errorf("peak %.1f Hz, SNR %.1f dB, late %d of %d through 30 ms of jitter and 3%% loss", peak, snr, st.Late, st.Pushed)
	}
}

func TestG722ToneWithItsEightKilohertzClock(t *testing.T) {
	// RFC 3551 section 4.5.2: G.722 timestamps count at 8000 Hz though the audio is 16 kHz.
	_, st, snr, peak := toneRun(t, codec.Format{Codec: codec.G722}, 9, 13, 0.02, 20*time.Millisecond, 10*time.Second)
	t.Logf("stats %+v; peak %.1f Hz, SNR %.1f dB", st, peak, snr)
	if peak < 990 || peak > 1010 || snr < 15 || st.Late > st.Pushed/100 || st.TimestampJumps != 0 {
		t.Errorf("peak %.1f Hz, SNR %.1f dB, stats %+v", peak, snr, st)
	}
}

// TestOpusTalkspurtAfterSilenceStartsAtFullLevel: a talker that is read only while it talks (the
// mixer skips silent participants) must not start each talkspurt low. A concealment run before
// the first packet after the silence made libopus ramp its gain up over ~80 ms, 15 dB low at
// first (found by bench/load).
func TestOpusTalkspurtAfterSilenceStartsAtFullLevel(t *testing.T) {
	b, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	enc := mustEncoder(t, codec.Format{Codec: codec.Opus})
	tone := audiotest.NewTone(700, 0.3, codec.SampleRate)
	var pcm, f codec.Frame
	payload := make([]byte, codec.MaxPayloadSize)
	seq := uint16(0)
	var firstFrames, steadyFrames []float64
	for tick := 0; tick < 300; tick++ {
		talking := tick%100 < 40 // 800 ms of tone, 1.2 s of silence
		if talking {
			tone.Fill(pcm[:])
		} else {
			pcm.Clear()
		}
		now := tickTime(tick)
		if n, err := enc.Encode(pcm[:], payload); err != nil {
			t.Fatal(err)
		} else if n > 0 {
			if err := b.Push(Packet{PayloadType: 111, SequenceNumber: seq, Timestamp: uint32(tick * 960), SSRC: 1, Payload: payload[:n]}, now.Add(time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			seq++
		}
		a := b.Advance(now.Add(2 * time.Millisecond))
		if !a.Present || (a.LevelKnown && a.Level <= silentLevel) {
			continue // the mixer would not read a silent participant
		}
		if !b.Read(&f) {
			continue
		}
		level := audiotest.ToneLevel(f[:], codec.SampleRate, 700)
		if tick > 100 && tick%100 < 3 {
			firstFrames = append(firstFrames, level)
		} else if tick%100 > 10 && tick%100 < 38 {
			steadyFrames = append(steadyFrames, level)
		}
	}
	if len(firstFrames) == 0 || len(steadyFrames) == 0 {
		t.Fatalf("first frames %v, steady %d frames", firstFrames, len(steadyFrames))
	}
	steady := steadyFrames[len(steadyFrames)/2]
	// The first frame holds the onset (Opus look-ahead): judge the second and third.
	for i, l := range firstFrames {
		if i%3 != 0 && l < steady-3 {
			t.Errorf("talkspurt frame %d at %.1f dBFS, steady %.1f: starts low", i%3, l, steady)
		}
	}
}
