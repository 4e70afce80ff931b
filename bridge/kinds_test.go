package bridge

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"confd/codec"
	"confd/testkit/rtptest"
)

// drain returns the events already in sub, without waiting: the bridge publishes a
// participant's join and leave before Join and Leave return.
func drain(sub *Subscription) []Event {
	var got []Event
	for {
		select {
		case e := <-sub.C:
			got = append(got, e)
		default:
			return got
		}
	}
}

// TestInternalParticipantsAreNotAnnounced: confd's own participants (a recorder, a player, a
// forwarder) are not people, by the one rule Internal: they publish no join or leave (a
// recording has its "recording" events, a forwarder its forwarder_started and
// forwarder_stopped), GET leaves them out, and a person's join and leave are as before.
func TestInternalParticipantsAreNotAnnounced(t *testing.T) {
	b, sub := newWatchedBridge(t, "r", 64)
	pcmu := codec.Format{Codec: codec.PCMU}
	ada := mustJoin(t, b, "r", ParticipantInfo{Name: "Ada", Kind: KindSIP, Output: pcmu}, rtptest.NopLeg{})
	var own []*Participant
	for _, kind := range []string{KindRecorder, KindPlayer} {
		own = append(own, mustJoin(t, b, "r", ParticipantInfo{Name: kind, Kind: kind, Output: pcmu}, rtptest.NopLeg{}))
	}
	fwd, err := b.JoinForwarder("r", "", pcmu, 0, rtptest.NopLeg{})
	if err != nil {
		t.Fatal(err)
	}
	own = append(own, fwd)
	for _, p := range own {
		if !p.Internal() || !InternalKind(p.Kind()) {
			t.Errorf("a %s is not confd's own", p.Kind())
		}
		p.Leave("done")
	}
	if ada.Internal() || InternalKind(KindSIP) || InternalKind(KindWebRTC) || InternalKind(KindCascade) {
		t.Error("a person or a cascade leg counted as confd's own")
	}
	if st, _ := b.RoomState("r"); len(st.Participants) != 1 || st.Participants[0].ID != ada.ID() {
		t.Errorf("GET lists %+v, want Ada alone", st.Participants)
	}
	var types []EventType
	for _, e := range drain(sub) {
		if e.Type == EventJoin || e.Type == EventLeave {
			if e.Participant != ada.ID() {
				t.Errorf("a %s of confd's own %v: %+v", e.Type, e.Data["kind"], e)
			}
		}
		types = append(types, e.Type)
	}
	ada.Leave("bye")
	for _, e := range drain(sub) {
		types = append(types, e.Type)
	}
	if want := []EventType{EventRoomStarted, EventJoin, EventLeave, EventRoomFinished}; !slices.Equal(types, want) {
		t.Errorf("events %v, want %v", types, want)
	}
}

// TestListedKindsDocumented: the kinds GET, the events and confd_legs show are the ones SPEC's
// participant state lists, and ParticipantInfo's doc says the same.
func TestListedKindsDocumented(t *testing.T) {
	spec, err := os.ReadFile("../docs/SPEC.md")
	if err != nil {
		t.Fatal(err)
	}
	want := `"kind":"` + strings.Join(ListedKinds, "|") + `"`
	if !strings.Contains(string(spec), want) {
		t.Errorf("docs/SPEC.md's participant state does not say %s", want)
	}
	src, err := os.ReadFile("participant.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), "Kind is one of ListedKinds") {
		t.Error("ParticipantInfo.Kind's doc does not point at ListedKinds")
	}
}

// TestEventTypesDocumented: docs/SPEC.md and README.md list every event type the bridge
// publishes (bridge.EventTypes, which openapi.json's Event enum also holds), and SPEC's
// forwarder_stopped has the counts it really carries.
func TestEventTypesDocumented(t *testing.T) {
	for _, doc := range []string{"../docs/SPEC.md", "../README.md"} {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		// The list follows "server-sent events" up to a semicolon, the table cell's end or the
		// end of its (indented) list item.
		m := regexp.MustCompile("server-sent events:?\\s*((?:[^;|\\n]|\\n  )*)").FindSubmatch(text)
		if m == nil {
			t.Errorf("%s has no list of server-sent events", doc)
			continue
		}
		var listed []EventType
		for _, n := range regexp.MustCompile("`([a-z_]+)`").FindAllSubmatch(m[1], -1) {
			listed = append(listed, EventType(n[1]))
		}
		for _, e := range EventTypes {
			if !slices.Contains(listed, e) {
				t.Errorf("%s's list of events lacks %s", doc, e)
			}
		}
		for _, e := range listed {
			if !slices.Contains(EventTypes, e) {
				t.Errorf("%s lists an event %s the bridge never publishes", doc, e)
			}
		}
	}
	spec, _ := os.ReadFile("../docs/SPEC.md")
	if !regexp.MustCompile("(?s)`forwarder_stopped`[^.]*`packets`[^.]*`dropped`").Match(spec) {
		t.Error("docs/SPEC.md's forwarder_stopped lacks `dropped`")
	}
}
