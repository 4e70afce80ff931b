package web

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"confd/bridge"
)

// TestRosterNamesTheListedKinds: the page's list names exactly the participant kinds a room
// lists and announces (bridge.ListedKinds), none that never arrive.
func TestRosterNamesTheListedKinds(t *testing.T) {
	src, err := os.ReadFile("static/roster.js")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`const kinds = \{([^}]*)\}`).FindSubmatch(src)
	if m == nil {
		t.Fatal("roster.js has no kinds")
	}
	var named []string
	for _, k := range regexp.MustCompile(`(\w+):`).FindAllSubmatch(m[1], -1) {
		named = append(named, string(k[1]))
	}
	slices.Sort(named)
	if want := slices.Sorted(slices.Values(bridge.ListedKinds)); !slices.Equal(named, want) {
		t.Errorf("roster.js names kinds %v, the bridge lists %v", named, want)
	}
}
