package metrics

import (
	"os"
	"slices"
	"strings"
	"testing"

	"confd/bridge"
	"confd/codec"
	"confd/testkit/rtptest"
)

// TestLegsAreTheListedKinds: confd_legs and confd_room_participants count what the room's
// state lists (bridge.ListedKinds: people and cascade legs), never confd's own recorders,
// players and forwarders, and docs/metrics.md and the HELP text name those kinds.
func TestLegsAreTheListedKinds(t *testing.T) {
	b := bridge.New(bridge.Config{})
	defer b.Close()
	m := New(b, WithRoomLabels(true))
	pcmu := codec.Format{Codec: codec.PCMU}
	for _, info := range []bridge.ParticipantInfo{
		{Kind: bridge.KindSIP}, {Kind: bridge.KindWebRTC}, {Kind: bridge.KindCascade, Cascade: "b"},
		{Kind: bridge.KindRecorder}, {Kind: bridge.KindPlayer},
	} {
		info.Output = pcmu
		if _, err := b.Join("r", info, rtptest.NopLeg{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.JoinForwarder("r", "", pcmu, 0, rtptest.NopLeg{}); err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, m)
	var kinds []string
	for _, mt := range fams["confd_legs"].GetMetric() {
		for _, l := range mt.GetLabel() {
			if l.GetName() == "kind" {
				kinds = append(kinds, l.GetValue())
			}
		}
	}
	slices.Sort(kinds)
	want := slices.Sorted(slices.Values(bridge.ListedKinds))
	if !slices.Equal(kinds, want) {
		t.Errorf("confd_legs kinds %v, want %v", kinds, want)
	}
	if n, _ := value(fams, "confd_room_participants", "room=r"); n != float64(len(want)) {
		t.Errorf("confd_room_participants %v, want the %d the room lists", n, len(want))
	}
	named := "(" + strings.Join(bridge.ListedKinds, ", ") + ")"
	if help := fams["confd_legs"].GetHelp(); !strings.Contains(help, named) {
		t.Errorf("confd_legs HELP %q does not name %s", help, named)
	}
	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(doc)) {
		if strings.HasPrefix(line, "| `confd_legs`") && !strings.Contains(line, named) {
			t.Errorf("docs/metrics.md's confd_legs row does not name %s:\n%s", named, line)
		}
	}
}
