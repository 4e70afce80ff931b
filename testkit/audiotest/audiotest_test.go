package audiotest

import (
	"math"
	"path/filepath"
	"testing"
)

func TestToneLevelFindsTheToneAndNotOthers(t *testing.T) {
	pcm := make([]int16, 4800)
	a := NewTone(440, 0.5, 48000)
	b := NewTone(1000, 0.25, 48000)
	tmp := make([]int16, len(pcm))
	a.Fill(pcm)
	b.Fill(tmp)
	for i := range pcm {
		pcm[i] += tmp[i]
	}
	if got := ToneLevel(pcm, 48000, 440); math.Abs(got-(-6.02)) > 0.3 {
		t.Errorf("440 Hz at amplitude 0.5: %.2f dBFS, want -6.0", got)
	}
	if got := ToneLevel(pcm, 48000, 1000); math.Abs(got-(-12.04)) > 0.3 {
		t.Errorf("1000 Hz at amplitude 0.25: %.2f dBFS, want -12.0", got)
	}
	if got := ToneLevel(pcm, 48000, 700); got > -60 {
		t.Errorf("absent 700 Hz reads %.1f dBFS, want < -60", got)
	}
}

func TestToneContinuesAcrossFills(t *testing.T) {
	whole := Generate(1234, 0.8, 8000, 800)
	tone := NewTone(1234, 0.8, 8000)
	parts := make([]int16, 800)
	for i := 0; i < 800; i += 160 {
		tone.Fill(parts[i : i+160])
	}
	for i := range whole {
		if d := int(whole[i]) - int(parts[i]); d > 1 || d < -1 {
			t.Fatalf("sample %d: %d vs %d", i, whole[i], parts[i])
		}
	}
}

func TestSNRAndRMS(t *testing.T) {
	pcm := Generate(700, 0.5, 16000, 3200)
	if snr := SNR(pcm, 16000, 700); snr < 80 {
		t.Errorf("clean tone SNR %.1f dB, want > 80 (only rounding noise)", snr)
	}
	noise := Generate(3100, 0.05, 16000, 3200)
	for i := range pcm {
		pcm[i] += noise[i]
	}
	if snr := SNR(pcm, 16000, 700); math.Abs(snr-20) > 0.5 {
		t.Errorf("tone with another 20 dB below: SNR %.1f dB, want 20", snr)
	}
	if r := RMS(Generate(1000, 1, 48000, 4800)); math.Abs(r+3.01) > 0.1 {
		t.Errorf("full-scale sine RMS %.2f dBFS, want -3.01", r)
	}
}

func TestPeakFrequency(t *testing.T) {
	for _, f := range []float64{300, 440, 1000, 3333, 7000} {
		got := PeakFrequency(Generate(f, 0.5, 48000, 9600), 48000)
		if math.Abs(got-f) > 2 {
			t.Errorf("peak of %.0f Hz tone: %.1f Hz", f, got)
		}
	}
}

func TestDelay(t *testing.T) {
	ref := make([]int16, 4000)
	// A chirp-like signal so the correlation has one clear peak.
	for i := range ref {
		x := float64(i) / 8000
		ref[i] = int16(10000 * math.Sin(2*math.Pi*(200+800*x)*x))
	}
	for _, lag := range []int{0, 7, 123} {
		got := make([]int16, len(ref)+lag)
		copy(got[lag:], ref)
		if d := Delay(ref, got); d != lag {
			t.Errorf("lag %d measured as %d", lag, d)
		}
	}
}

func TestWAVRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.wav")
	pcm := Generate(440, 0.3, 8000, 1601)
	if err := WriteWAV(path, 8000, 1, pcm); err != nil {
		t.Fatal(err)
	}
	rate, ch, got, err := ReadWAV(path)
	if err != nil || rate != 8000 || ch != 1 || len(got) != len(pcm) {
		t.Fatalf("read back rate=%d ch=%d n=%d err=%v", rate, ch, len(got), err)
	}
	for i := range pcm {
		if got[i] != pcm[i] {
			t.Fatalf("sample %d differs", i)
		}
	}
	if _, _, _, err := DecodeWAV([]byte("RIFF0000WAVEjunk")); err == nil {
		t.Error("garbage accepted as WAV")
	}
}

// TestToneWAVHoldsTheToneOnEveryChannel: ToneWAV's file reads back at its rate and channels,
// as long as asked, with the tone at its level on each channel alike.
func TestToneWAVHoldsTheToneOnEveryChannel(t *testing.T) {
	rate, ch, pcm, err := ReadWAV(ToneWAV(t, 16000, 2, 520, 0.2, 0.5))
	if err != nil || rate != 16000 || ch != 2 || len(pcm) != 2*8000 {
		t.Fatalf("read back rate=%d ch=%d n=%d err=%v", rate, ch, len(pcm), err)
	}
	for i := 0; i < len(pcm); i += 2 {
		if pcm[i] != pcm[i+1] {
			t.Fatalf("frame %d: channels differ", i/2)
		}
	}
	if l := ToneLevel(Mono(pcm, 2), rate, 520); math.Abs(l-toDB(0.2)) > 0.5 {
		t.Errorf("tone at %.1f dBFS, want %.1f", l, toDB(0.2))
	}
}

// TestMedianToneLevelReadsASplicedTone: a 440 Hz tone with five 20 ms frames cut out 300 to 460
// ms apart (a jitter buffer shortening its delay after stalls) is at its level in every frame.
// ToneLevel over the whole of it reads -33 dBFS, each cut having turned the tone by 0.8 of a
// cycle (the failure of sipleg's TestDialOutThroughAnAuthenticatingProxy); MedianToneLevel reads
// the level, and still tells the tone from one that is absent or missing from most of the audio.
func TestMedianToneLevelReadsASplicedTone(t *testing.T) {
	const rate, frame = 8000, 160
	whole := Generate(440, 0.25, rate, 3*rate)
	var spliced []int16
	for i := 0; i+frame <= len(whole); i += frame {
		if n := i / frame; n != 21 && n != 42 && n != 65 && n != 83 && n != 99 {
			spliced = append(spliced, whole[i:i+frame]...)
		}
	}
	if got := ToneLevel(spliced, rate, 440); got > -30 {
		t.Errorf("ToneLevel of the spliced tone: %.1f dBFS; the test no longer shows what it guards against", got)
	}
	if got := MedianToneLevel(spliced, rate, 440); math.Abs(got-(-12.04)) > 0.3 {
		t.Errorf("MedianToneLevel of the spliced tone: %.2f dBFS, want -12.0", got)
	}
	if got := MedianToneLevel(spliced, rate, 1000); got > -60 {
		t.Errorf("absent 1000 Hz reads %.1f dBFS, want < -60", got)
	}
	mostlySilent := append(make([]int16, 2*rate), whole[:rate/2]...)
	if got := MedianToneLevel(mostlySilent, rate, 440); got > -60 {
		t.Errorf("a tone in only a fifth of the audio reads %.1f dBFS, want < -60", got)
	}
}
