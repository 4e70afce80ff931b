package bridge

import (
	"testing"
	"time"

	"confd/codec"
	"confd/jitter"
	"confd/testkit/rtptest"
)

func TestBusDeliversInOrderAndFiltersByRoom(t *testing.T) {
	b := NewBus()
	all := b.Subscribe("", 10, "")
	red := b.Subscribe("red", 10, "")
	defer all.Close()
	defer red.Close()
	b.Publish(Event{Type: EventJoin, Room: "red", Participant: "1"})
	b.Publish(Event{Type: EventJoin, Room: "blue", Participant: "2"})
	b.Publish(Event{Type: EventLeave, Room: "red", Participant: "1"})
	var ids []string
	for i := 0; i < 3; i++ {
		ids = append(ids, (<-all.C).ID)
	}
	if !(ids[0] < ids[1] && ids[1] < ids[2]) || !ValidID(ids[0]) {
		t.Errorf("all-rooms ids %v, want three increasing ids", ids)
	}
	if e := <-red.C; e.Type != EventJoin || e.Room != "red" {
		t.Errorf("first red event %+v", e)
	}
	if e := <-red.C; e.Type != EventLeave {
		t.Errorf("second red event %+v", e)
	}
	if len(red.C) != 0 {
		t.Error("blue event reached the red subscriber")
	}
}

func TestBusNeverBlocksOnAStuckSubscriber(t *testing.T) {
	b := NewBus()
	stuck := b.Subscribe("", 2, "")
	defer stuck.Close()
	for i := 0; i < 100; i++ {
		b.Publish(Event{Type: EventTalking, Room: "r"})
	}
	if stuck.Dropped() != 98 {
		t.Errorf("dropped %d, want 98", stuck.Dropped())
	}
}

func TestBusReplaysHistoryAfterAnID(t *testing.T) {
	b := NewBus()
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, b.Publish(Event{Type: EventDTMF, Room: "r"}).ID)
	}
	s := b.Subscribe("r", 10, ids[2])
	defer s.Close()
	if e := <-s.C; e.ID != ids[3] {
		t.Errorf("first replayed id %s, want the 4th, %s", e.ID, ids[3])
	}
	if e := <-s.C; e.ID != ids[4] {
		t.Errorf("second replayed id %s, want the 5th, %s", e.ID, ids[4])
	}
	if len(s.C) != 0 {
		t.Errorf("%d more replayed", len(s.C))
	}
	for _, bad := range []string{"3", "", "not-an-id"} {
		if s := b.Subscribe("r", 10, bad); len(s.C) != 0 {
			t.Errorf("Last-Event-ID %q replayed %d events, want none", bad, len(s.C))
		}
	}
	s.Close()
	s.Close()
	b.Publish(Event{Type: EventDTMF, Room: "r"}) // no panic on a closed subscriber
}

// TestEveryMuteEventSaysByWhom: a mute (or deaf) event says who made it, "api" for a change
// through Room.Update as "self" for *6 and "mute-all" for mute-all; the API's were the only
// ones without.
func TestEveryMuteEventSaysByWhom(t *testing.T) {
	b, sub := newWatchedBridge(t, "r", 16)
	p := mustJoin(t, b, "r", pcmuInfo("ann"), rtptest.NopLeg{})
	room, _ := b.Room("r")
	yes := true
	if _, err := room.Update(p.ID(), Change{Muted: &yes, Deaf: &yes}); err != nil {
		t.Fatal(err)
	}
	for seen := 0; seen < 2; {
		select {
		case e := <-sub.C:
			if e.Type != EventMute {
				continue
			}
			seen++
			if e.Data["by"] != "api" {
				t.Errorf("mute event %v: by %v, want api", e.Data, e.Data["by"])
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no mute events")
		}
	}
}

// TestRoleEventIsWhole: a role event, whatever the PATCH changed (the role, the target, the
// moderator flag, or several at once), is one event saying the participant's whole role:
// role, moderator, and a coach's target; a join says moderator too.
func TestRoleEventIsWhole(t *testing.T) {
	b, sub := newWatchedBridge(t, "r", 64)
	pcmu := codec.Format{Codec: codec.PCMU}
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
	b, sub := newWatchedBridge(t, "r", 64)
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
