package recording

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"confd/bridge"
	"confd/codec"
	"confd/testkit/audiotest"
)

func TestTrackIsTimeAlignedWithSilenceWhereNotHeard(t *testing.T) {
	origin := time.Unix(1000, 0)
	path := filepath.Join(t.TempDir(), "track.wav")
	w, err := NewTrackWriter(path, origin)
	if err != nil {
		t.Fatal(err)
	}
	tone := audiotest.NewTone(500, 0.5, codec.SampleRate)
	var f codec.Frame
	tick := func(n int) time.Time { return origin.Add(time.Duration(n)*codec.FrameDuration + 3*time.Millisecond) }
	// Heard in ticks 10-59 and 100-149 only; tick 30 comes twice (ignored the second time).
	for n := 10; n < 150; n++ {
		tone.Fill(f[:])
		if n >= 60 && n < 100 {
			continue
		}
		if err := w.WriteFrame(tick(n), &f); err != nil {
			t.Fatal(err)
		}
		if n == 30 {
			if err := w.WriteFrame(tick(n), &f); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(tick(200)); err != nil {
		t.Fatal(err)
	}
	rate, ch, pcm, err := audiotest.ReadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	if rate != codec.SampleRate || ch != 1 || len(pcm) != 200*codec.FrameSamples {
		t.Fatalf("%d Hz, %d channels, %d samples; want 200 frames", rate, ch, len(pcm))
	}
	at := func(from, to int) []int16 { return pcm[from*codec.FrameSamples : to*codec.FrameSamples] }
	for _, span := range [][2]int{{0, 10}, {60, 100}, {150, 200}} {
		if rms := audiotest.RMS(at(span[0], span[1])); rms > -120 {
			t.Errorf("ticks %v: %.1f dBFS, want silence", span, rms)
		}
	}
	for _, span := range [][2]int{{10, 60}, {100, 150}} {
		if l := audiotest.ToneLevel(at(span[0], span[1]), codec.SampleRate, 500); l < -7 || l > -5 {
			t.Errorf("ticks %v: the tone at %.1f dBFS, want -6", span, l)
		}
	}
	// The tone's phase runs on through the gap: the frames sit at their ticks, not packed.
	ref := audiotest.Generate(500, 0.5, codec.SampleRate, 150*codec.FrameSamples)
	if d := audiotest.Delay(ref[100*codec.FrameSamples:150*codec.FrameSamples], at(100, 150)); d != 0 {
		t.Errorf("second talkspurt is %d samples off its ticks", d)
	}
}

func TestTapAndSendAllocateNothing(t *testing.T) {
	rec := &Recording{rtp: newRing[rtpSlot](4), pcm: newRing[pcmSlot](4)}
	leg := recorderLeg{rec}
	pkt := make([]byte, 200)
	var f codec.Frame
	if n := testing.AllocsPerRun(100, func() {
		leg.SendRTP(pkt)
		rec.tap("7", time.Unix(1, 0), &f)
		// The writer's side, so that the rings never fill.
		rec.rtp.release(<-rec.rtp.full)
		rec.pcm.release(<-rec.pcm.full)
	}); n != 0 {
		t.Errorf("%v allocations per tick", n)
	}
	// A writer that falls behind costs drops, not waiting.
	for range 10 {
		leg.SendRTP(pkt)
	}
	if st := rec.Stats(); st.Dropped != 6 {
		t.Errorf("dropped %d, want 6 of 10 with 4 slots", st.Dropped)
	}
}

// fakeTapper stands in for the room's PCM tap hook.
type fakeTapper struct {
	mu  sync.Mutex
	tap func(participant string, now time.Time, f *codec.Frame)
}

func (f *fakeTapper) SetPCMTap(tap func(participant string, now time.Time, f *codec.Frame)) {
	f.mu.Lock()
	f.tap = tap
	f.mu.Unlock()
}

func (f *fakeTapper) call(participant string, now time.Time, frame *codec.Frame) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tap != nil {
		f.tap(participant, now, frame)
	}
}

func TestRecordingWritesATrackPerParticipant(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := bridge.New(bridge.Config{})
		p := joinSilent(t, b, "tracks")
		events := b.Bus().Subscribe("tracks", 16, "")
		tapper := &fakeTapper{}
		rec, err := start(b, "tracks", t.TempDir(), Options{Tracks: true}, tapper)
		if err != nil {
			t.Fatal(err)
		}
		origin := time.Now()
		toneA, toneB := audiotest.NewTone(440, 0.3, codec.SampleRate), audiotest.NewTone(1000, 0.3, codec.SampleRate)
		var fa, fb codec.Frame
		// The room's ticks: A is heard throughout, B from tick 20 to 39.
		for tick := range 50 {
			now := origin.Add(time.Duration(tick) * codec.FrameDuration)
			time.Sleep(time.Until(now))
			toneA.Fill(fa[:])
			tapper.call("1", now, &fa)
			if tick >= 20 && tick < 40 {
				toneB.Fill(fb[:])
				tapper.call("2", now, &fb)
			}
		}
		time.Sleep(codec.FrameDuration)
		if err := rec.Stop(); err != nil {
			t.Fatal(err)
		}
		if tapper.tap != nil {
			t.Error("Stop left the tap installed")
		}
		tracks := rec.Tracks()
		if len(tracks) != 2 || !strings.HasSuffix(tracks[0], "-p1.wav") || !strings.HasSuffix(tracks[1], "-p2.wav") {
			t.Fatalf("tracks %v", tracks)
		}
		frame := func(pcm []int16, from, to int) []int16 { return pcm[from*codec.FrameSamples : to*codec.FrameSamples] }
		_, _, a, err := audiotest.ReadWAV(tracks[0])
		if err != nil {
			t.Fatal(err)
		}
		_, _, bpcm, err := audiotest.ReadWAV(tracks[1])
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != 50*codec.FrameSamples || len(bpcm) != len(a) {
			t.Fatalf("tracks of %d and %d samples, want the 50 ticks recorded", len(a), len(bpcm))
		}
		if l := audiotest.ToneLevel(frame(a, 0, 50), codec.SampleRate, 440); l < -12 {
			t.Errorf("A's track: 440 Hz at %.1f dBFS", l)
		}
		if rms := audiotest.RMS(frame(bpcm, 0, 20)); rms > -120 {
			t.Errorf("B's track before B spoke: %.1f dBFS", rms)
		}
		if l := audiotest.ToneLevel(frame(bpcm, 20, 40), codec.SampleRate, 1000); l < -12 {
			t.Errorf("B's track: 1000 Hz at %.1f dBFS", l)
		}
		events.Close()
		for e := range events.C {
			if e.Type == bridge.EventRecording && e.Data["state"] == "stopped" {
				if got, _ := e.Data["tracks"].([]string); len(got) != 2 {
					t.Errorf("stopped event %+v", e.Data)
				}
			}
		}
		p.Leave("bye")
		b.Close()
	})
}

// BenchmarkRecorderSendRTP is what the recorder costs the room's tick per packet.
func BenchmarkRecorderSendRTP(b *testing.B) {
	rec := &Recording{rtp: newRing[rtpSlot](4)}
	leg := recorderLeg{rec}
	pkt := make([]byte, 120)
	b.ReportAllocs()
	for b.Loop() {
		leg.SendRTP(pkt)
		rec.rtp.release(<-rec.rtp.full)
	}
}
