package bridge

import (
	"fmt"
	"regexp"

	"confd/dsp"
	"confd/mixer"
)

// pinPattern is docs/SPEC.md's rule for a room's PIN and moderator PIN: what a phone can type
// at the IVR's prompt (DTMF digits, '#' ending the entry), so that every leg can be given it.
var pinPattern = regexp.MustCompile(`^[0-9]{1,16}$`)

// Validate returns nil for settings docs/SPEC.md allows, else an ErrBadSetting that names the
// key (as the config file and the API spell it) and its rule. It is the one check of a room's
// settings, wherever they come from: the config file (config.Validate), the -data-dir state
// (api.OpenRoomStore), PUT /api/rooms/ROOM and a cluster peer's declaration (Declare), and
// New's rooms. It reads no file: Declare also checks that the hold music decodes.
func (s RoomSettings) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrBadSetting}, a...)...)
	}
	switch {
	case s.PIN != "" && !pinPattern.MatchString(s.PIN):
		return bad("pin must be 1-16 digits")
	case s.ModeratorPIN != "" && !pinPattern.MatchString(s.ModeratorPIN):
		return bad("moderator_pin must be 1-16 digits")
	case s.ModeratorPIN != "" && s.ModeratorPIN == s.PIN:
		return bad("moderator_pin must differ from the pin")
	case s.Limit < 0:
		return bad("limit %d must not be negative (0 is none)", s.Limit)
	case s.TopK < 0 || s.TopK > mixer.MaxTopK:
		return bad("top_k %d must be 0-%d (0 is %d)", s.TopK, mixer.MaxTopK, mixer.DefaultTopK)
	case s.AGCLevel != 0 && (s.AGCLevel < int(dsp.MinAGCLevel) || s.AGCLevel > int(dsp.MaxAGCLevel)):
		return bad("agc_level %d dBov must be %d to %d (0 is %d)", s.AGCLevel, dsp.MinAGCLevel, dsp.MaxAGCLevel, dsp.DefaultAGCLevel)
	}
	return nil
}

// Settings returns room's settings as they are now, declared or not (zero for an ad-hoc room
// or none), whatever the room or the bridge is doing: what a leg reads about a room it is
// already in (the PIN rule of a WHIP/WHEP DELETE, whether the IVR asks for a name), where Admit,
// which answers whether someone may come in, gives none while draining.
func (b *Bridge) Settings(room string) RoomSettings {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, _ := b.settingsLocked(room)
	return s
}

// declareChecked declares the rooms New is given. A room whose name or settings break the rule
// is logged and declared locked with none of its settings: refused to everyone (a PIN that
// cannot be typed must not leave the room open), and nothing out of range reaches a room.
// cmd/confd never gets here with one: it refuses to start on a bad config file or state.
func (b *Bridge) declareChecked(rooms map[string]RoomSettings) {
	for name, s := range rooms {
		if err := CheckRoomName(name); err != nil {
			b.log.Error("declared room ignored", "err", err)
			continue
		}
		if err := s.Validate(); err != nil {
			b.log.Error("declared room locked: its settings are refused", "room", name, "err", err)
			s = RoomSettings{Locked: true}
		}
		b.declared[name] = s
	}
}

// refusal is the one rule by which a room refuses a newcomer, given its people on every node
// and whether it is ending: locked (ErrRoomLocked), ending with its moderator (ErrRoomEnding),
// its limit reached (ErrRoomFull). Admit, a move and the owner's own check at a join (Room.full)
// apply it; a cascade leg is excused from the last two (ParticipantInfo.excused).
func (s RoomSettings) refusal(people int, ending bool) error {
	switch {
	case s.Locked:
		return ErrRoomLocked
	case ending:
		return ErrRoomEnding
	case s.full(people):
		return ErrRoomFull
	}
	return nil
}

// full reports whether a room with people in it (on every node) takes no one more.
func (s RoomSettings) full(people int) bool { return s.Limit > 0 && people >= s.Limit }
