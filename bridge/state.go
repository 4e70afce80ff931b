package bridge

import (
	"cmp"
	"time"

	"confd/dsp"
	"confd/mixer"
)

// RoomSettings are a room's settings (docs/SPEC.md "Rooms"); a declared room keeps them while empty.
type RoomSettings struct {
	// PIN, when set, is asked for by DTMF before a caller joins, and is the WHIP bearer token.
	PIN string `json:"pin,omitempty"`
	// Locked rooms refuse new participants (SIP 403).
	Locked bool `json:"locked"`
	// Limit is the participant limit; 0 means none (SIP 486 when full).
	Limit int `json:"limit"`
	// TopK is how many talkers are mixed at once; 0 means the default of 3.
	TopK int `json:"top_k"`
	// Record records the room's mix whenever it has participants.
	Record bool `json:"record"`
	// Chimes plays an entry tone when someone joins and an exit tone when someone leaves.
	Chimes bool `json:"chimes"`
	// Moderated start and end, and hold music (moderator.go, holdmusic.go).
	//
	// ModeratorPIN, when set, is a second PIN: whoever enters it joins as a moderator.
	ModeratorPIN string `json:"moderator_pin,omitempty"`
	// WaitForModerator keeps everyone else unmixed, hearing the hold music, until a moderator
	// is in.
	WaitForModerator bool `json:"wait_for_moderator"`
	// EndWithModerator ends the room, after a prompt, when its last moderator leaves.
	EndWithModerator bool `json:"end_with_moderator"`
	// AnnounceOnlyParticipant tells a participant who joins a room alone that it is the only
	// one, before the hold music.
	AnnounceOnlyParticipant bool `json:"announce_only_participant"`
	// AnnounceUserCount tells a participant who joins how many others are in (announce.go).
	AnnounceUserCount bool `json:"announce_user_count"`
	// AnnounceJoinLeave announces a caller's recorded name to the room when it joins and when
	// it leaves (announce.go); a SIP caller through the IVR is asked for its name.
	AnnounceJoinLeave bool `json:"announce_join_leave"`
	// Moderators are the From users of trusted dial-ins (calls from security.trunks) that join
	// as moderators without a PIN.
	Moderators []string `json:"moderators,omitempty"`
	// HoldMusic is a WAV or Ogg/Opus file looped to a participant who is alone, and to those
	// who wait for a moderator.
	HoldMusic string `json:"hold_music,omitempty"`
	// Denoise suppresses every talker's background noise and AGC evens out their levels,
	// towards AGCLevel dBov (0 means -20); a participant's own choice (Change) overrides the
	// room's (preprocess.go).
	Denoise  bool `json:"denoise"`
	AGC      bool `json:"agc"`
	AGCLevel int  `json:"agc_level"`
}

// Effective returns s with each zero value that stands for a default replaced by that default
// (TopK 0 is mixer.DefaultTopK), as the API shows a room's settings: what the room does, not
// what was left out.
func (s RoomSettings) Effective() RoomSettings {
	if s.TopK <= 0 {
		s.TopK = mixer.DefaultTopK
	}
	s.AGCLevel = cmp.Or(s.AGCLevel, int(dsp.DefaultAGCLevel))
	return s
}

// RoomSummary is one line of GET /api/rooms.
type RoomSummary struct {
	Room         string `json:"room"`
	Participants int    `json:"participants"`
}

// RoomState is GET /api/rooms/ROOM.
type RoomState struct {
	Room         string             `json:"room"`
	Declared     bool               `json:"declared"`
	Settings     RoomSettings       `json:"settings"`
	Participants []ParticipantState `json:"participants"`
}

// ParticipantState is one participant as the API shows it (docs/SPEC.md "Control API").
type ParticipantState struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	From      string    `json:"from"`
	Kind      string    `json:"kind"`
	Codec     string    `json:"codec"`
	Role      string    `json:"role"`
	Target    string    `json:"target,omitempty"`
	Muted     bool      `json:"muted"`
	Deaf      bool      `json:"deaf"`
	Moderator bool      `json:"moderator"`
	Waiting   bool      `json:"waiting"` // not mixed until a moderator is in
	OnHold    bool      `json:"on_hold"`
	Talking   bool      `json:"talking"`
	LevelDBov float64   `json:"level_dbov"`
	JoinedAt  time.Time `json:"joined_at"`
	// Pan is where stereo listeners hear the participant, -1 (left) to 1 (right).
	Pan     float32 `json:"pan"`
	Denoise bool    `json:"denoise"`
	AGC     bool    `json:"agc"`
	// Cascade marks a cascade leg between nodes, not a person; Node is the other node. In a
	// cluster's room state (GET /api/rooms/ROOM on any node), a person whose call is on another
	// node than the room's owner has Node set to that node.
	Cascade bool   `json:"cascade,omitempty"`
	Node    string `json:"node,omitempty"`
	// People is, for a cascade leg, how many people are behind it: in the room on the other
	// end's side, as it last reported (census.go); on the owner, the other node's people.
	People int `json:"people,omitempty"`
}
