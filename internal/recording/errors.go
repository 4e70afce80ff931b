package recording

import "errors"

var (
	// ErrEmptyRoom is returned by Start for a room nobody is in: a recording follows a room's
	// life, and an empty room has none (declare the room with Record to record whenever it has
	// participants).
	ErrEmptyRoom = errors.New("recording: room has no participants")
	// ErrRecording is returned when the room is already being recorded.
	ErrRecording = errors.New("recording: room is already being recorded")
	// ErrNotRecording is returned by Manager.Stop for a room that is not being recorded.
	ErrNotRecording = errors.New("recording: room is not being recorded")
	// ErrNoTap is returned by Start with Options.Tracks when the bridge's rooms do not offer the
	// per-participant PCM tap (see PCMTapper).
	ErrNoTap = errors.New("recording: the room offers no per-participant audio tap")
	// ErrNoSourceJoin is returned by Play when the bridge cannot join a Source (see SourceJoiner).
	ErrNoSourceJoin = errors.New("recording: the bridge cannot join a player")
	// ErrBadAudio is returned for a player given no samples, or a tone out of range.
	ErrBadAudio = errors.New("recording: bad audio for a player")
	// ErrNameTaken is returned by Start when a recording's name and all its numbered
	// alternatives are taken in the directory.
	ErrNameTaken = errors.New("recording: no free file name")
)
