package mixer

import (
	"errors"
	"math"
	"testing"
	"time"

	"confd/codec"
	"confd/testkit/audiotest"
)

func TestTickAllocatesNothing(t *testing.T) {
	h := newHarness(t, Config{})
	var talkers []*toneSource
	for i := range 6 {
		s := newTone(freqs[i], toneAmp, i%2 == 0)
		talkers = append(talkers, s)
		h.add(ID(i+1), s, opus20)
	}
	h.add(7, newTone(freqs[6], toneAmp, true), codec.Format{Codec: codec.PCMU})
	h.add(8, nil, codec.Format{Codec: codec.Opus, PacketTime: 60 * time.Millisecond})
	h.add(9, &noiseSource{amp: 0.05, known: true}, opus20)
	h.add(10, nil, opus20)
	must(t, h.m.SetGain(10, 1, 0.5))
	must(t, h.m.SetRole(7, RoleCoach, 8))
	must(t, h.m.SetDeaf(9, true))
	// Talkers pause and resume in turn, so the set keeps changing, encoders move in and out of
	// the pools, and a listener keeps switching between the shared group and its own.
	step := 0
	churn := func() {
		step++
		for i, s := range talkers {
			s.paused = (step/15+i)%3 == 0
		}
		h.m.Tick(h.now)
		h.now = h.now.Add(codec.FrameDuration)
		for _, id := range h.ids {
			_ = h.m.Output(id)
		}
	}
	for range 300 { // warm the pools
		churn()
	}
	made := h.m.Stats().EncodersMade
	if a := testing.AllocsPerRun(300, churn); a != 0 {
		t.Errorf("Tick allocates %v times per run", a)
	}
	if got := h.m.Stats().EncodersMade; got != made {
		t.Errorf("encoders made while warm: %d → %d", made, got)
	}
}

func TestSharedEncodes(t *testing.T) {
	h := newHarness(t, Config{})
	for i := range 3 {
		h.add(ID(i+1), newTone(freqs[i], toneAmp, true), opus20)
	}
	for i := range 50 {
		h.add(ID(100+i), &toneSource{silent: true}, opus20)
	}
	for i := range 20 {
		h.add(ID(200+i), nil, codec.Format{Codec: codec.PCMA})
	}
	h.run(10, false)
	st := h.m.Stats()
	// Three private minus-ones, a shared Opus group, a shared PCMA group.
	if st.EncodesLastTick != 5 || st.Groups != 5 || st.PrivateListeners != 3 {
		t.Errorf("stats %+v, want 5 encodes in 5 groups and 3 private listeners", st)
	}
	if st.DecodesLastTick != 3 {
		t.Errorf("decodes per tick %d, want 3 (the talkers only)", st.DecodesLastTick)
	}
	p0 := h.m.Output(100).Payload
	for i := range 50 {
		if p := h.m.Output(ID(100 + i)).Payload; &p[0] != &p0[0] {
			t.Fatalf("listener %d does not share the shared payload", 100+i)
		}
	}
	if h.m.OutputGroup(1)[:7] != "private" || h.m.OutputGroup(100)[:6] != "shared" {
		t.Errorf("groups %q %q", h.m.OutputGroup(1), h.m.OutputGroup(100))
	}
}

func TestPacketTimesAndTimestamps(t *testing.T) {
	h := newHarness(t, Config{})
	h.add(1, newTone(440, toneAmp, true), codec.Format{Codec: codec.Opus, PacketTime: 40 * time.Millisecond})
	h.add(2, newTone(1000, toneAmp, false), codec.Format{Codec: codec.PCMU, PacketTime: 60 * time.Millisecond})
	h.add(3, nil, codec.Format{Codec: codec.G722})
	h.run(12, false)
	due := map[ID]int{}
	for range 12 {
		h.run(1, false)
		for _, c := range []struct {
			id    ID
			step  uint32
			every int
		}{{1, 1920, 2}, {2, 480, 3}, {3, 160, 1}} {
			out := h.m.Output(c.id)
			if out.Due {
				due[c.id]++
				if out.TimestampStep != c.step {
					t.Errorf("participant %d: timestamp step %d, want %d", c.id, out.TimestampStep, c.step)
				}
			} else if out.Payload != nil {
				t.Errorf("participant %d: payload when nothing is due", c.id)
			}
		}
	}
	if due[1] != 6 || due[2] != 4 || due[3] != 12 {
		t.Errorf("packets due in 12 ticks: %v", due)
	}
	h.reset()
	h.run(24, true)
	if got := h.level(1, 1000); math.Abs(got-toneDB) > 1 {
		t.Errorf("40 ms listener hears the other at %.1f dBFS", got)
	}
	if got := h.level(2, 440); math.Abs(got-toneDB) > 1 {
		t.Errorf("60 ms listener hears the other at %.1f dBFS", got)
	}
	if got := h.level(2, 1000); got > toneDB-30 {
		t.Errorf("60 ms listener hears itself at %.1f dBFS", got)
	}
}

func TestMarkerStartsEachTalkspurt(t *testing.T) {
	h, a := talkerAndListener(t)
	var markers, sent int
	for i := range 60 {
		a.paused = i >= 20 && i < 40
		h.run(1, false)
		out := h.m.Output(2)
		if out.Payload != nil {
			sent++
		}
		if out.Marker {
			markers++
			if out.Payload == nil {
				t.Errorf("tick %d: marker on an empty packet", i)
			}
		}
	}
	if markers != 2 {
		t.Errorf("%d talkspurt markers in two talkspurts (%d packets sent)", markers, sent)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	h := newHarness(t, Config{})
	h.add(1, nil, opus20)
	h.add(2, nil, opus20)
	must(t, h.m.SetGain(1, 2, 2))
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"duplicate", h.m.Add(1, ParticipantConfig{}), ErrDuplicateParticipant},
		{"bad format", h.m.Add(3, ParticipantConfig{Format: codec.Format{Codec: codec.Opus, PacketTime: 25 * time.Millisecond}}), codec.ErrBadFormat},
		{"unknown codec", h.m.Add(3, ParticipantConfig{Format: codec.Format{Codec: 99}}), codec.ErrUnknownCodec},
		{"gain high", h.m.SetGain(1, 2, 4.5), ErrBadGain},
		{"gain NaN", h.m.SetGain(1, 2, float32(math.NaN())), ErrBadGain},
		{"gain negative", h.m.SetGain(1, 2, -1), ErrBadGain},
		{"self pair", h.m.SetGain(1, 1, 1), ErrSelfPair},
		{"unknown speaker", h.m.SetGain(1, 9, 1), ErrUnknownParticipant},
		{"matrix", h.m.SetMatrix([]Pair{{Listener: 1, Speaker: 2, Gain: 1}, {Listener: 2, Speaker: 1, Gain: 7}}), ErrBadGain},
		{"matrix twice", h.m.SetMatrix([]Pair{{Listener: 1, Speaker: 2, Gain: 1}, {Listener: 1, Speaker: 2, Gain: 3}}), ErrBadGain},
		{"coach self", h.m.SetRole(1, RoleCoach, 1), ErrBadRole},
		{"coach absent", h.m.SetRole(1, RoleCoach, 9), ErrBadRole},
		{"role", h.m.SetRole(1, Role(9), 0), ErrBadRole},
		{"mute unknown", h.m.SetMuted(9, true), ErrUnknownParticipant},
		{"remove unknown", h.m.Remove(9), ErrUnknownParticipant},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	if got := h.m.Matrix(); len(got) != 1 || got[0] != (Pair{Listener: 1, Speaker: 2, Gain: 2}) {
		t.Errorf("matrix changed by bad input: %v", got)
	}
	if r, _, _ := h.m.Role(1); r != RoleNormal || h.m.Len() != 2 {
		t.Errorf("role %v, %d participants", r, h.m.Len())
	}
	must(t, h.m.SetMatrix([]Pair{{Listener: 2, Speaker: 1, Gain: 0.5}}))
	if got := h.m.Matrix(); len(got) != 1 || got[0] != (Pair{Listener: 2, Speaker: 1, Gain: 0.5}) {
		t.Errorf("matrix not replaced: %v", got)
	}
	must(t, h.m.Remove(1))
	if got := h.m.Matrix(); len(got) != 0 {
		t.Errorf("pairs of a removed participant remain: %v", got)
	}
	if _, err := ParseRole("coach"); err != nil {
		t.Error(err)
	}
	if _, err := ParseRole("boss"); !errors.Is(err, ErrBadRole) {
		t.Errorf("ParseRole(boss): %v", err)
	}
}

// TestJoinLeaveBetweenTicks checks slot reuse and that a leaving talker's coach and pairs go.
func TestJoinLeaveBetweenTicks(t *testing.T) {
	h := newHarness(t, Config{})
	h.add(1, newTone(440, toneAmp, true), opus20)
	h.add(2, newTone(1000, toneAmp, false), opus20)
	h.add(3, newTone(1300, toneAmp, true), opus20)
	must(t, h.m.SetRole(3, RoleCoach, 1))
	must(t, h.m.SetGain(2, 1, 2))
	h.run(10, false)
	must(t, h.m.Remove(1))
	h.ids = h.ids[1:]
	h.run(1, false)
	h.add(4, newTone(1700, toneAmp, true), opus20) // takes slot 0
	h.run(6, false)
	h.reset()
	h.run(10, true)
	if got := h.level(4, 1000); math.Abs(got-toneDB) > 1 {
		t.Errorf("new participant hears 2 at %.1f", got)
	}
	if got := h.level(4, 1300); got > -60 {
		t.Errorf("new participant in the old target's slot hears the coach at %.1f", got)
	}
	if got := h.level(2, 1700); math.Abs(got-toneDB) > 1 {
		t.Errorf("the old gain applies to the new participant: %.1f", got)
	}
}

// TestNoOwnVoiceWhenJoiningTheSharedPacketMidway: with 60 ms packets the shared group's packet
// holds three ticks of mix; a lone talker muted mid-packet must not receive that packet,
// whose first frames hold its own voice being cut.
func TestNoOwnVoiceWhenJoiningTheSharedPacketMidway(t *testing.T) {
	for phase := range 3 {
		h := newHarness(t, Config{})
		a := newTone(440, toneAmp, true)
		f60 := codec.Format{Codec: codec.Opus, PacketTime: 60 * time.Millisecond}
		h.add(1, a, f60)
		h.add(2, nil, f60) // someone listening to the shared group
		h.run(20+phase, false)
		must(t, h.m.SetMuted(1, true)) // cut within 2.5 ms: its voice is in the shared packet
		h.run(30, true)
		pcm := h.heard[1]
		for i := 0; i+2880 <= len(pcm); i += 2880 {
			if got := audiotest.ToneLevel(pcm[i:i+2880], codec.SampleRate, 440); got > -60 {
				t.Errorf("phase %d, packet %d: the talker hears its own voice at %.1f dBFS", phase, i/2880, got)
			}
		}
	}
}
