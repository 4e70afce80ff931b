package recording

import (
	"errors"
	"fmt"

	"confd/bridge"
)

// Errors of recording and playing. Those a client's request can cause wrap the bridge error
// whose status they are answered with (bridge.StatusOf), as rtpfwd's do; the others are
// confd's own failures (HTTP 500).
var (
	// ErrEmptyRoom is returned by Start for a room nobody is in: a recording follows a room's
	// life, and an empty room has none (declare the room with Record to record whenever it has
	// participants) (404, as for playing into it).
	ErrEmptyRoom = fmt.Errorf("recording: room has no participants (%w)", bridge.ErrNoRoom)
	// ErrRecording is returned when the room is already being recorded (409).
	ErrRecording = fmt.Errorf("recording: room is already being recorded (%w)", bridge.ErrAlreadyRunning)
	// ErrNotRecording is returned by Manager.Stop for a room that is not being recorded (404).
	ErrNotRecording = fmt.Errorf("recording: room is not being recorded (%w)", bridge.ErrNotRunning)
	// ErrNoTap is returned by Start with Options.Tracks when the bridge's rooms do not offer the
	// per-participant PCM tap (see PCMTapper).
	ErrNoTap = errors.New("recording: the room offers no per-participant audio tap")
	// ErrNoSourceJoin is returned by Play when the bridge cannot join a Source (see SourceJoiner).
	ErrNoSourceJoin = errors.New("recording: the bridge cannot join a player")
	// ErrBadAudio is returned for a player given no samples, an unknown prompt, or a tone out of
	// range (400).
	ErrBadAudio = fmt.Errorf("recording: bad audio for a player (%w)", bridge.ErrBadSetting)
	// ErrNameTaken is returned by Start when a recording's name and all its numbered
	// alternatives are taken in the directory.
	ErrNameTaken = errors.New("recording: no free file name")
)
