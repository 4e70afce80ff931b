package bridge

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// TestRoomSettingsValidate: RoomSettings.Validate is the one rule for a room's settings (the
// config file, the -data-dir store, PUT /api/rooms/ROOM, a cluster peer's declaration): each
// bad setting is an ErrBadSetting that names the key, and the good ones pass.
func TestRoomSettingsValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		s    RoomSettings
		want string // in the error; "" for none
	}{
		"defaults":                 {},
		"everything in range":      {s: RoomSettings{PIN: "1234", ModeratorPIN: "9999", Limit: 5, TopK: 16, AGCLevel: -20}},
		"pin not digits":           {s: RoomSettings{PIN: "12a"}, want: "pin must be 1-16 digits"},
		"pin too long":             {s: RoomSettings{PIN: strings.Repeat("1", 17)}, want: "pin must be 1-16 digits"},
		"moderator pin not digits": {s: RoomSettings{ModeratorPIN: "12 3"}, want: "moderator_pin must be 1-16 digits"},
		"moderator pin is the pin": {s: RoomSettings{PIN: "42", ModeratorPIN: "42"}, want: "moderator_pin must differ from the pin"},
		"negative limit":           {s: RoomSettings{Limit: -1}, want: "limit"},
		"top_k too high":           {s: RoomSettings{TopK: 17}, want: "top_k"},
		"negative top_k":           {s: RoomSettings{TopK: -1}, want: "top_k"},
		"agc_level out of range":   {s: RoomSettings{AGCLevel: 5}, want: "agc_level"},
	} {
		err := tc.s.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case tc.want != "" && (!errors.Is(err, ErrBadSetting) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want ErrBadSetting saying %q", name, err, tc.want)
		}
	}
}

// TestDeclareRefusesANonDigitPIN: Declare, which a cluster peer's declaration reaches too, holds
// the PIN to digits as the config file and the API do.
func TestDeclareRefusesANonDigitPIN(t *testing.T) {
	b := New(Config{})
	for _, s := range []RoomSettings{{PIN: "12ab"}, {ModeratorPIN: "x"}, {AGCLevel: 99}} {
		if err := b.Declare("r", s); !errors.Is(err, ErrBadSetting) {
			t.Errorf("Declare(%+v) = %v, want ErrBadSetting", s, err)
		}
	}
	if _, ok := b.Declared()["r"]; ok {
		t.Error("a refused declaration was kept")
	}
}

// TestNewLocksARoomWithBadSettings: New takes its rooms unchecked from its caller; a room whose
// settings break the rule reaches no room goroutine as it is. It is kept declared, locked, with
// none of its settings, so that it is refused (a bad PIN does not leave it open) and says why
// in the log. (cmd/confd refuses to start on such a config file or -data-dir state.)
func TestNewLocksARoomWithBadSettings(t *testing.T) {
	var log bytes.Buffer
	b := New(Config{Rooms: map[string]RoomSettings{
		"bad":  {PIN: "12a", AGCLevel: 99, TopK: 3},
		"good": {PIN: "1234", AGCLevel: -18},
	}}, WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	if !strings.Contains(log.String(), "bad") || !strings.Contains(log.String(), "pin must be") {
		t.Errorf("the log does not say why: %s", log.String())
	}
	d := b.Declared()
	if got := d["bad"]; !got.Locked || got.PIN != "" || got.AGCLevel != 0 || got.TopK != 0 {
		t.Errorf("bad room declared as %+v, want locked and nothing else", got)
	}
	if _, err := b.Admit("bad"); !errors.Is(err, ErrRoomLocked) {
		t.Errorf("Admit(bad) = %v, want ErrRoomLocked", err)
	}
	if got := d["good"]; got.PIN != "1234" || got.AGCLevel != -18 || got.Locked {
		t.Errorf("good room declared as %+v", got)
	}
}

// TestSettingsReadWhileDrainingOrLocked: Bridge.Settings reads a room's settings whatever the
// bridge is doing, where Admit, which answers a newcomer, gives none while draining.
func TestSettingsReadWhileDrainingOrLocked(t *testing.T) {
	b := New(Config{Rooms: map[string]RoomSettings{"r": {PIN: "1234", ModeratorPIN: "9", AnnounceJoinLeave: true, Locked: true}}})
	if s := b.Settings("r"); s.PIN != "1234" || s.ModeratorPIN != "9" || !s.AnnounceJoinLeave {
		t.Errorf("Settings(r) = %+v", s)
	}
	b.Drain()
	if s, err := b.Admit("r"); !errors.Is(err, ErrDraining) || s.PIN != "" {
		t.Fatalf("Admit while draining = %+v, %v", s, err)
	}
	if s := b.Settings("r"); s.PIN != "1234" || s.ModeratorPIN != "9" || !s.AnnounceJoinLeave {
		t.Errorf("Settings(r) while draining = %+v", s)
	}
	if s := b.Settings("adhoc"); s.PIN != "" || s.Locked {
		t.Errorf("Settings(adhoc) = %+v, want none", s)
	}
}

// TestRoomRefusal is the one rule Admit, a move and a join's own check apply to a newcomer:
// locked first, then ending, then the limit counting people on every node.
func TestRoomRefusal(t *testing.T) {
	for _, tc := range []struct {
		s      RoomSettings
		people int
		ending bool
		want   error
	}{
		{RoomSettings{}, 100, false, nil},
		{RoomSettings{Limit: 3}, 2, false, nil},
		{RoomSettings{Limit: 3}, 3, false, ErrRoomFull},
		{RoomSettings{Limit: 3}, 3, true, ErrRoomEnding},
		{RoomSettings{Limit: 3, Locked: true}, 3, true, ErrRoomLocked},
	} {
		if err := tc.s.refusal(tc.people, tc.ending); err != tc.want {
			t.Errorf("%+v with %d people, ending %v: %v, want %v", tc.s, tc.people, tc.ending, err, tc.want)
		}
	}
}
