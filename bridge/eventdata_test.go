package bridge

import (
	"testing"

	"confd/codec"
	"confd/jitter"
	"confd/testkit/rtptest"
)

// TestRoleEventIsWhole: a role event, whatever the PATCH changed (the role, the target, the
// moderator flag, or several at once), is one event saying the participant's whole role:
// role, moderator, and a coach's target; a join says moderator too.
func TestRoleEventIsWhole(t *testing.T) {
	b := New(Config{})
	defer b.Close()
	pcmu := codec.Format{Codec: codec.PCMU}
	sub := b.Bus().Subscribe("r", 64, "")
	defer sub.Close()
	ada := mustJoin(t, b, "r", ParticipantInfo{Name: "Ada", Kind: KindSIP, Output: pcmu, Moderator: true}, rtptest.NopLeg{})
	bob := mustJoin(t, b, "r", ParticipantInfo{Name: "Bob", Kind: KindSIP, Output: pcmu}, rtptest.NopLeg{})
	r, _ := b.Room("r")
	joins := 0
	for _, e := range drain(sub) {
		if e.Type == EventJoin {
			joins++
			if want := e.Participant == ada.ID(); e.Data["moderator"] != want || e.Data["role"] != "normal" {
				t.Errorf("join of %s says role %v moderator %v, want normal %v", e.Data["name"], e.Data["role"], e.Data["moderator"], want)
			}
		}
	}
	if joins != 2 {
		t.Fatalf("%d joins", joins)
	}
	yes, no, coach, monitor, target := true, false, "coach", "monitor", ada.ID()
	for _, c := range []struct {
		change Change
		want   map[string]any
	}{
		{Change{Moderator: &yes}, map[string]any{"role": "normal", "moderator": true}},
		{Change{Role: &coach, Target: &target}, map[string]any{"role": "coach", "moderator": true, "target": ada.ID()}},
		{Change{Role: &monitor, Moderator: &no}, map[string]any{"role": "monitor", "moderator": false}},
	} {
		if _, err := r.Update(bob.ID(), c.change); err != nil {
			t.Fatal(err)
		}
		var roles []Event
		for _, e := range drain(sub) {
			if e.Type == EventRole {
				roles = append(roles, e)
			}
		}
		if len(roles) != 1 {
			t.Errorf("%+v published %d role events, want 1: %+v", c.change, len(roles), roles)
			continue
		}
		if got := roles[0].Data; len(got) != len(c.want) || got["role"] != c.want["role"] ||
			got["moderator"] != c.want["moderator"] || got["target"] != c.want["target"] {
			t.Errorf("%+v published role %v, want %v", c.change, got, c.want)
		}
	}
}

// TestEventCodecIsTheStates: the codec a join or a cascade event names is the one the
// participant's state shows: what it hears, after a re-negotiation too, or for one that hears
// nothing (a WHIP publisher) what it sends.
func TestEventCodecIsTheStates(t *testing.T) {
	b := New(Config{})
	defer b.Close()
	sub := b.Bus().Subscribe("r", 64, "")
	defer sub.Close()
	opus := []jitter.PayloadType{{Type: 111, Codec: codec.Opus}}
	pub := mustJoin(t, b, "r", ParticipantInfo{Name: "obs", Kind: KindWebRTC, Input: opus}, rtptest.NopLeg{})
	for _, e := range drain(sub) {
		if e.Type == EventJoin && e.Data["codec"] != pub.State().Codec {
			t.Errorf("a publisher's join says codec %v, its state %q", e.Data["codec"], pub.State().Codec)
		}
	}
	leg := mustJoin(t, b, "r", ParticipantInfo{Name: "cascade b", Kind: KindCascade, Cascade: "b",
		Output: codec.Format{Codec: codec.Opus}, OutputPT: 111, Input: opus}, rtptest.NopLeg{})
	if err := leg.SetMedia(codec.Format{Codec: codec.PCMU}, 0, []jitter.PayloadType{{Type: 0, Codec: codec.PCMU}}); err != nil {
		t.Fatal(err)
	}
	r, _ := b.Room("r")
	var e Event
	r.do(func() { e = leg.arrivalEvent(r, nil) })
	if e.Type != EventCascade || e.Data["codec"] != leg.State().Codec {
		t.Errorf("a re-negotiated cascade leg's arrival says %v %v, its state %q", e.Type, e.Data["codec"], leg.State().Codec)
	}
}
