package bridge

import (
	"time"

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
}

// Effective returns s with each zero value that stands for a default replaced by that default
// (TopK 0 is mixer.DefaultTopK), as the API shows a room's settings: what the room does, not
// what was left out.
func (s RoomSettings) Effective() RoomSettings {
	if s.TopK <= 0 {
		s.TopK = mixer.DefaultTopK
	}
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
	OnHold    bool      `json:"on_hold"`
	Talking   bool      `json:"talking"`
	LevelDBov float64   `json:"level_dbov"`
	JoinedAt  time.Time `json:"joined_at"`
	// Cascade marks a cascade leg between nodes, not a person; Node is the other node.
	Cascade bool   `json:"cascade,omitempty"`
	Node    string `json:"node,omitempty"`
}
