package recording

import (
	"errors"
	"testing"
	"time"

	"confd/bridge"
	"confd/codec"
	"confd/mixer"
	"confd/prompts"
	"confd/testkit/audiotest"
)

func TestPlayerPlaysEveryFrameThenIsDone(t *testing.T) {
	pcm := audiotest.Generate(300, 0.5, codec.SampleRate, 10*codec.FrameSamples+100)
	p, err := NewPlayer(pcm)
	if err != nil {
		t.Fatal(err)
	}
	var f codec.Frame
	var got []int16
	now := time.Unix(0, 0)
	for tick := 0; tick < 13; tick++ {
		a := p.Advance(now)
		now = now.Add(codec.FrameDuration)
		if tick < 11 {
			if !a.Present || !a.LevelKnown || a.Level < -12 {
				t.Fatalf("tick %d: activity %+v", tick, a)
			}
			if tick%3 == 0 { // the mixer need not read every tick; the next frame is still on time
				continue
			}
		} else if a.Present {
			t.Fatalf("tick %d: still playing", tick)
		}
		if ok := p.Read(&f); ok != (tick < 11) {
			t.Fatalf("tick %d: Read %v", tick, ok)
		}
		if tick < 11 {
			want := pcm[tick*codec.FrameSamples : min((tick+1)*codec.FrameSamples, len(pcm))]
			for i := range f {
				w := int16(0)
				if i < len(want) {
					w = want[i]
				}
				if f[i] != w {
					t.Fatalf("tick %d sample %d: %d, want %d", tick, i, f[i], w)
				}
			}
			got = append(got, f[:]...)
		}
	}
	select {
	case <-p.Done():
	default:
		t.Error("Done not closed after the last frame")
	}
	if p.Duration().Round(time.Millisecond) != 202*time.Millisecond { // 9700 samples
		t.Errorf("duration %v", p.Duration())
	}
}

func TestPlayerAllocatesNothingPerTick(t *testing.T) {
	p, err := NewPlayer(make([]int16, 1000*codec.FrameSamples))
	if err != nil {
		t.Fatal(err)
	}
	var f codec.Frame
	if n := testing.AllocsPerRun(500, func() {
		p.Advance(time.Time{})
		p.Read(&f)
	}); n != 0 {
		t.Errorf("%v allocations per tick", n)
	}
}

// TestPlayersAreHeardThroughTheMixer plays a prompt and a chime as mixer sources and decodes
// what a PCMU listener hears.
func TestPlayersAreHeardThroughTheMixer(t *testing.T) {
	m := mixer.New(mixer.Config{})
	chime, err := NewTonePlayer(Note{Freq: 1000, Amplitude: 0.3, Duration: 400 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Add(1, mixer.ParticipantConfig{Source: chime}); err != nil {
		t.Fatal(err)
	}
	if err := m.Add(2, mixer.ParticipantConfig{Format: codec.Format{Codec: codec.PCMU}}); err != nil {
		t.Fatal(err)
	}
	dec, err := codec.NewDecoder(codec.PCMU)
	if err != nil {
		t.Fatal(err)
	}
	var heard []int16
	out := make([]int16, codec.MaxPacketSamples)
	now := time.Unix(1000, 0)
	for range 30 {
		m.Tick(now)
		now = now.Add(codec.FrameDuration)
		if o := m.Output(2); o.Due && len(o.Payload) > 0 {
			n, err := dec.Decode(o.Payload, out)
			if err != nil {
				t.Fatal(err)
			}
			heard = append(heard, out[:n]...)
		}
	}
	if len(heard) < 25*codec.FrameSamples {
		t.Fatalf("the listener was sent %d samples in 30 ticks", len(heard))
	}
	tone, after := heard[2*codec.FrameSamples:18*codec.FrameSamples], heard[22*codec.FrameSamples:]
	if l := audiotest.ToneLevel(tone, codec.SampleRate, 1000); l < -14 {
		t.Errorf("the chime is heard at %.1f dBFS, played at -10.5", l)
	}
	if rms := audiotest.RMS(after); rms > -50 {
		t.Errorf("after the chime the listener hears %.1f dBFS", rms)
	}
	select {
	case <-chime.Done():
	default:
		t.Error("the chime is not done")
	}
}

func TestPromptsAndChimes(t *testing.T) {
	p, err := NewPromptPlayer(prompts.Joining)
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Duration(); d < 500*time.Millisecond || d > 5*time.Second {
		t.Errorf("the joining prompt lasts %v", d)
	}
	if _, err := NewPromptPlayer("no-such-prompt"); err == nil {
		t.Error("an unknown prompt plays")
	}
	for _, c := range []*Player{EntryTone(), ExitTone()} {
		if c == nil || c.Duration() != 300*time.Millisecond {
			t.Errorf("chime %v", c)
		}
	}
	for _, n := range []Note{{Freq: 10, Amplitude: 0.1, Duration: time.Second}, {Freq: 440, Amplitude: 2, Duration: time.Second},
		{Freq: 440, Amplitude: 0.1}, {Freq: 440, Amplitude: 0.1, Duration: time.Hour}} {
		if _, err := NewTonePlayer(n); !errors.Is(err, ErrBadAudio) {
			t.Errorf("%+v: %v", n, err)
		}
	}
	if _, err := NewPlayer(nil); !errors.Is(err, ErrBadAudio) {
		t.Errorf("no samples: %v", err)
	}
}

func TestPlayNeedsTheJoinSourceHook(t *testing.T) {
	b := bridge.New(bridge.Config{})
	if _, ok := any(b).(SourceJoiner); ok {
		t.Skip("the bridge has JoinSource")
	}
	if _, err := Play(b, "r", EntryTone()); !errors.Is(err, ErrNoSourceJoin) {
		t.Errorf("Play without the hook: %v", err)
	}
}

func TestChimesNeedTheJoinSourceHook(t *testing.T) {
	b := bridge.New(bridge.Config{})
	c, err := NewChimes(b, func(string) bool { return true }, nil)
	if _, ok := any(b).(SourceJoiner); ok {
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		return
	}
	if !errors.Is(err, ErrNoSourceJoin) {
		t.Errorf("chimes without the hook: %v", err)
	}
}
