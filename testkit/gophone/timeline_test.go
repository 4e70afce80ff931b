package gophone

import (
	"math"
	"testing"
	"time"

	"confd/codec"
	"confd/testkit/audiotest"
)

// packetsOf cuts a tone into 20 ms packets and adds them to a Timeline, packet i arriving at
// start + 20 ms·i + late(i); drop(i) leaves packet i out.
func packetsOf(tl *Timeline, hz float64, n int, ssrc, ts0 uint32, late func(int) time.Duration, drop func(int) bool) {
	tone := audiotest.NewTone(hz, 0.25, codec.SampleRate)
	var f codec.Frame
	for i := range n {
		tone.Fill(f[:])
		if drop != nil && drop(i) {
			continue
		}
		arrival := tl.Start().Add(time.Duration(i)*codec.FrameDuration + late(i))
		tl.Add(arrival, ssrc, ts0+uint32(i*160), 8000, f[:])
	}
}

func TestTimelinePlacesByTimestampNotArrival(t *testing.T) {
	tl := NewTimeline(time.Unix(1000, 0))
	// Jitter of up to 15 ms, never more than the anchor packet's: the tone must keep its phase.
	packetsOf(tl, 1000, 100, 7, 4_000_000_000, func(i int) time.Duration { return time.Duration(i*7%16) * time.Millisecond }, nil)
	from := tl.Start().Add(200 * time.Millisecond)
	pcm := tl.Window(from, from.Add(time.Second))
	if snr := audiotest.SNR(pcm, codec.SampleRate, 1000); snr < 60 {
		t.Errorf("SNR %.1f dB: the packets were not laid end to end", snr)
	}
	if got := tl.Coverage(from, from.Add(time.Second)); got != 1 {
		t.Errorf("coverage %.3f, want 1", got)
	}
	if lvl := tl.Level(from, from.Add(time.Second), 1000); math.Abs(lvl-(-12.04)) > 0.2 {
		t.Errorf("level %.2f dBFS, want -12.04", lvl)
	}
}

func TestTimelineGapsAreSilenceAndLevelIgnoresThem(t *testing.T) {
	tl := NewTimeline(time.Unix(1000, 0))
	// Packets 50-59 lost: 200 ms of nothing in the second second.
	packetsOf(tl, 700, 150, 9, 0, func(int) time.Duration { return 0 }, func(i int) bool { return i >= 50 && i < 60 })
	from := tl.Start().Add(time.Second)
	if got := tl.Coverage(from, from.Add(time.Second)); math.Abs(got-0.8) > 0.001 {
		t.Errorf("coverage %.3f, want 0.8", got)
	}
	gap := tl.Window(from, from.Add(200*time.Millisecond))
	for i, s := range gap {
		if s != 0 {
			t.Fatalf("sample %d of the gap is %d, want silence", i, s)
		}
	}
	if lvl := tl.Level(from, from.Add(time.Second), 700); math.Abs(lvl-(-12.04)) > 0.2 {
		t.Errorf("level around a gap %.2f dBFS, want -12.04: the gap must not count", lvl)
	}
	if lvl := tl.Level(from, from.Add(200*time.Millisecond), 700); lvl != Silent {
		t.Errorf("level of the gap alone %.1f, want Silent", lvl)
	}
	// Past the end: silence, not a panic.
	if w := tl.Window(tl.Start().Add(10*time.Second), tl.Start().Add(11*time.Second)); len(w) != codec.SampleRate {
		t.Errorf("window past the end has %d samples", len(w))
	}
}

func TestTimelineReanchorsOnNewSSRCOrJump(t *testing.T) {
	tl := NewTimeline(time.Unix(1000, 0))
	packetsOf(tl, 440, 50, 1, 0, func(int) time.Duration { return 0 }, nil)
	// A new stream one second later whose timestamps mean nothing relative to the old one.
	start := tl.Start().Add(2 * time.Second)
	var f codec.Frame
	audiotest.NewTone(1000, 0.25, codec.SampleRate).Fill(f[:])
	tl.Add(start, 2, 123456, 8000, f[:])
	if got := tl.Coverage(start, start.Add(codec.FrameDuration)); got != 1 {
		t.Errorf("a new SSRC's packet landed elsewhere than its arrival: coverage %.2f", got)
	}
	// The same SSRC jumping its timestamp by an hour lands where it arrived, too.
	later := start.Add(time.Second)
	tl.Add(later, 2, 123456+8000*3600, 8000, f[:])
	if got := tl.Coverage(later, later.Add(codec.FrameDuration)); got != 1 {
		t.Errorf("a timestamp jump landed elsewhere than its arrival: coverage %.2f", got)
	}
}
