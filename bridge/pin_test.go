package bridge

import (
	"errors"
	"strings"
	"testing"
)

// TestPINToCheck is the one PIN rule every leg applies (docs/SPEC.md "Moderators").
func TestPINToCheck(t *testing.T) {
	for _, tc := range []struct {
		name, pin, modPIN, given string
		gave                     bool
		secret                   string
		moderator                bool
	}{
		{"no PINs, none given", "", "", "", false, "", false},
		{"no PINs, one given", "", "", "123", true, "", false},
		{"PIN, none given: asked for", "1234", "", "", false, "1234", false},
		{"PIN, given", "1234", "", "9999", true, "1234", false},
		{"both, the PIN given", "1234", "5678", "1234", true, "1234", false},
		{"both, the moderator PIN given", "1234", "5678", "5678", true, "5678", true},
		{"both, a wrong one given", "1234", "5678", "0000", true, "1234", false},
		{"moderator PIN only, none given: ordinary", "", "5678", "", false, "", false},
		{"moderator PIN only, an empty one given: ordinary", "", "5678", "", true, "", false},
		{"moderator PIN only, it given", "", "5678", "5678", true, "5678", true},
		{"moderator PIN only, a wrong one given: counted", "", "5678", "0000", true, "5678", false},
	} {
		secret, moderator := PINToCheck(tc.pin, tc.modPIN, tc.given, tc.gave)
		if secret != tc.secret || moderator != tc.moderator {
			t.Errorf("%s: (%q, %v), want (%q, %v)", tc.name, secret, moderator, tc.secret, tc.moderator)
		}
	}
}

// TestCheckRoomName: a bad name is ErrBadRoomName (SIP 404, HTTP 400) and says the rule.
func TestCheckRoomName(t *testing.T) {
	if err := CheckRoomName("standup_2-B"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "a b", "a.b", strings.Repeat("x", 65)} {
		err := CheckRoomName(name)
		if !errors.Is(err, ErrBadRoomName) || !strings.Contains(err.Error(), RoomNamePattern) {
			t.Errorf("%q: %v", name, err)
		}
	}
}
