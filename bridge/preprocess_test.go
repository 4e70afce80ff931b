package bridge

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"confd/codec"
	"confd/dsp"
	"confd/jitter"
	"confd/testkit"
	"confd/testkit/rtptest"
)

// TestPreprocessingFollowsRoomAndParticipant: a declared room's denoise and agc reach the
// participants in it (and later changes of the room's settings too), a participant's own choice
// (PATCH) overrides the room's and survives them, and the speexdsp state exists exactly while
// some participant has denoise on: freed when it is turned off and when the participant leaves.
func TestPreprocessingFollowsRoomAndParticipant(t *testing.T) {
	base := dsp.Live()
	b := New(Config{}, WithLogger(slog.New(slog.DiscardHandler)))
	b.noClock = true
	if err := b.Declare("quiet", RoomSettings{Denoise: true}); err != nil {
		t.Fatal(err)
	}
	a := mustJoin(t, b, "quiet", pcmuInfo("p"), &rtptest.NopLeg{})
	c := mustJoin(t, b, "quiet", pcmuInfo("p"), &rtptest.NopLeg{})
	player := mustJoin(t, b, "quiet", ParticipantInfo{Name: "music", Kind: "player", Output: codec.Format{Codec: codec.PCMU},
		Input: []jitter.PayloadType{{Type: 0, Codec: codec.PCMU}}}, &rtptest.NopLeg{})
	if st := player.State(); st.Denoise || player.pp.pre != nil {
		t.Errorf("the room's denoise reached the bridge's own player: %+v", st)
	}
	player.Leave("done")
	r, _ := b.Room("quiet")
	state := func(p *Participant) (bool, bool) { st := p.State(); return st.Denoise, st.AGC }
	if d, g := state(a); !d || g || dsp.Live() != base+2 {
		t.Fatalf("joined a denoise room: denoise %v agc %v, %d speexdsp states (want 2)", d, g, dsp.Live()-base)
	}
	off, on := false, true
	st, err := r.Update(a.ID(), Change{Denoise: &off})
	if err != nil || st.Denoise || dsp.Live() != base+1 {
		t.Fatalf("PATCH denoise false: %+v, %v, %d states (want 1)", st, err, dsp.Live()-base)
	}
	if st, err = r.Update(a.ID(), Change{AGC: &on}); err != nil || !st.AGC || st.Denoise || dsp.Live() != base+1 {
		t.Fatalf("PATCH agc true: %+v, %v, %d states (want 1: AGC needs none)", st, err, dsp.Live()-base)
	}
	// The room's settings change: c follows, a keeps its own choices.
	if err := b.Declare("quiet", RoomSettings{Denoise: false, AGC: true, AGCLevel: -26}); err != nil {
		t.Fatal(err)
	}
	if d, g := state(c); d || !g || dsp.Live() != base {
		t.Errorf("after the room turned denoise off: c denoise %v agc %v, %d states (want 0)", d, g, dsp.Live()-base)
	}
	if d, g := state(a); d || !g {
		t.Errorf("a's own choices lost: denoise %v agc %v", d, g)
	}
	if got := c.pp.pre.Config().AGCLevel; got != -26 {
		t.Errorf("the room's agc_level: preprocessor at %d dBov, want -26", got)
	}
	if _, err := r.Update(c.ID(), Change{Denoise: &on}); err != nil || dsp.Live() != base+1 {
		t.Fatalf("PATCH c denoise true: %v, %d states", err, dsp.Live()-base)
	}
	c.Leave("bye")
	a.Leave("bye")
	if dsp.Live() != base || c.pp.pre != nil || a.pp.pre != nil {
		t.Errorf("after leaving: %d speexdsp states, preprocessors %v %v", dsp.Live()-base, c.pp.pre, a.pp.pre)
	}
	if err := b.Declare("quiet", RoomSettings{AGC: true, AGCLevel: 3}); !errors.Is(err, ErrBadSetting) {
		t.Errorf("agc_level 3: %v, want ErrBadSetting", err)
	}
	if got := (RoomSettings{}).Effective().AGCLevel; got != -20 {
		t.Errorf("effective agc_level %d, want -20", got)
	}
}

// TestPreprocessorsAreFreedHoweverTheyEnd (red team, issue 13): a speexdsp state is C memory
// that Go's collector never frees. Participants of a denoise room that PATCH it on and off,
// are moved between denoise rooms back and forth, leave, or are still there at shutdown leave
// no state behind.
func TestPreprocessorsAreFreedHoweverTheyEnd(t *testing.T) {
	base := dsp.Live()
	b := New(Config{Rooms: map[string]RoomSettings{"quiet": {Denoise: true}, "quiet2": {Denoise: true, AGC: true}}})
	var parts []*Participant
	for i := range 40 {
		p := mustJoin(t, b, "quiet", pcmuInfo("p"), &fakeLeg{})
		parts = append(parts, p)
		off, on := false, true
		r := p.Room()
		for range 5 {
			_, _ = r.Update(p.ID(), Change{Denoise: &off})
			_, _ = r.Update(p.ID(), Change{Denoise: &on, AGC: &on})
		}
		if i%2 == 0 {
			for range 3 {
				if _, err := b.Move(p.Room().Name(), p.ID(), MoveRequest{Room: "quiet2"}); err != nil {
					t.Fatal(err)
				}
				if _, err := b.Move("quiet2", p.ID(), MoveRequest{Room: "quiet"}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if got := dsp.Live() - base; got != 40 {
		t.Errorf("%d speexdsp states for 40 denoised participants", got)
	}
	for _, p := range parts[:20] {
		p.Leave("bye")
	}
	testkit.Eventually(t, 5*time.Second, "the 20 preprocessors did not start", func() bool { return dsp.Live()-base == 20 })
	b.Close() // the other 20 are still in the room
	testkit.Eventually(t, 5*time.Second, "the preprocessors were not freed", func() bool { return dsp.Live() == base })
}
