package bridge

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestDisplayName: the one rule for a participant's display name, whatever leg it came from:
// control characters and runs of white space become one space, the ends are trimmed, invalid
// UTF-8 is replaced, and the name is cut to MaxNameLen bytes on a character boundary.
func TestDisplayName(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes
	for in, want := range map[string]string{
		"Ada Lovelace":            "Ada Lovelace",
		"  Ada\r\nLovelace\x00 ":  "Ada Lovelace",
		"Ada\tLovelace\x1b[31m":   "Ada Lovelace [31m",
		"Ada\u0085Lovelace\u007f": "Ada Lovelace",
		"Jos\xe9":                 "Jos\uFFFD",
		"\x00\r\n":                "",
		// Bidi controls (red team, issue 14): a right-to-left override makes "Ada\u202Eecila"
		// show as "Adaalice" in the roster, a page and a log; an isolate hides what follows.
		"Ada\u202Enimda":               "Ada nimda",
		"\u2066Bob\u2069\u200F":        "Bob",
		"Eve\u061C\u200E!":             "Eve !",
		long:                           strings.Repeat("é", 64),
		strings.Repeat("a", 127) + "é": strings.Repeat("a", 127),
	} {
		got := displayName(in)
		if got != want {
			t.Errorf("displayName(%q) = %q, want %q", in, got, want)
		}
		if len(got) > MaxNameLen || !utf8.ValidString(got) {
			t.Errorf("displayName(%q) = %q: %d bytes, valid %v", in, got, len(got), utf8.ValidString(got))
		}
	}
}

// TestJoinNormalisesTheName: what a leg hands the bridge as a name is what the API, the events
// and the logs show only after displayName: a SIP From display name with a CRLF in it or a
// WHIP ?name= of 300 bytes joins with a clean one.
func TestJoinNormalisesTheName(t *testing.T) {
	b, sub := newWatchedBridge(t, "named", 10)
	mustJoin(t, b, "named", pcmuInfo(" Ada\r\nX-Injected: 1 "), &fakeLeg{})
	mustJoin(t, b, "named", pcmuInfo(strings.Repeat("b", 300)), &fakeLeg{})
	st, err := b.RoomState("named")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"Ada X-Injected: 1": true, strings.Repeat("b", MaxNameLen): true}
	for _, p := range st.Participants {
		if !want[p.Name] {
			t.Errorf("participant named %q", p.Name)
		}
	}
	ev := <-sub.C
	for ev.Type != EventJoin {
		ev = <-sub.C
	}
	if ev.Data["name"] != "Ada X-Injected: 1" {
		t.Errorf("join event %+v", ev)
	}
}
