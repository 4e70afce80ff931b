package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"confd/codec"
	"confd/testkit/audiotest"
)

// TestDemo runs the demo into a temporary directory and checks its exit status, its table and
// the WAV files: four seconds at 48 kHz, and each listener's file checked again by tone.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"-out", dir}, &stdout, &stderr); rc != 0 {
		t.Fatalf("exit status %d\nstdout:\n%s\nstderr:\n%s", rc, stdout.String(), stderr.String())
	}
	if got := strings.Count(stdout.String(), "minus-one ok"); got != 3 {
		t.Errorf("%d listeners pass minus-one, want 3:\n%s", got, stdout.String())
	}
	tones := map[string]float64{"A": 440, "B": 700, "C": 1000}
	for _, file := range []string{"A-hears.wav", "B-hears.wav", "C-hears.wav", "room-mix.wav"} {
		rate, channels, pcm, err := audiotest.ReadWAV(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if rate != codec.SampleRate || channels != 1 || len(pcm) != 4*codec.SampleRate {
			t.Errorf("%s: %d Hz, %d channels, %d samples", file, rate, channels, len(pcm))
			continue
		}
		tail := pcm[codec.SampleRate:]
		for who, f := range tones {
			level := audiotest.ToneLevel(tail, rate, f)
			self := strings.HasPrefix(file, who+"-")
			if self && level > -45 || !self && level < -20 {
				t.Errorf("%s: %s's %v Hz at %.1f dBFS", file, who, f, level)
			}
		}
	}
}

// TestDemoFlags checks that bad flags exit 2 without running.
func TestDemoFlags(t *testing.T) {
	var out bytes.Buffer
	if rc := run([]string{"-duration", "1s", "-out", t.TempDir()}, &out, &out); rc != 2 {
		t.Errorf("-duration 1s: exit status %d, want 2", rc)
	}
	if rc := run([]string{"-nosuchflag"}, &out, &out); rc != 2 {
		t.Errorf("unknown flag: exit status %d, want 2", rc)
	}
}

// TestCheckMinusOne checks the verdict on tone levels, including the failures the demo exits 1 on.
func TestCheckMinusOne(t *testing.T) {
	for _, tc := range []struct {
		levels []float64
		own    int
		ok     bool
	}{
		{[]float64{-80, -16, -16}, 0, true},
		{[]float64{-40, -16, -16}, 0, false}, // hears itself 24 dB down
		{[]float64{-80, -50, -16}, 0, false}, // does not hear B
		{[]float64{-17, -16, -16}, -1, true}, // the recorder hears all
		{[]float64{-17, -90, -16}, -1, false},
	} {
		_, err := checkMinusOne(tc.levels, tc.own)
		if (err == nil) != tc.ok {
			t.Errorf("levels %v own %d: err %v, want ok %v", tc.levels, tc.own, err, tc.ok)
		}
	}
}
