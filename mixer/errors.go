package mixer

import "errors"

var (
	// ErrUnknownParticipant is returned when an ID names no participant of the mixer.
	ErrUnknownParticipant = errors.New("mixer: unknown participant")
	// ErrDuplicateParticipant is returned by Add when the ID is already in the mixer.
	ErrDuplicateParticipant = errors.New("mixer: participant already added")
	// ErrBadGain is returned when a matrix gain is outside 0 to MaxGain or not a number; the
	// matrix is left as it was.
	ErrBadGain = errors.New("mixer: gain outside 0-4")
	// ErrBadRole is returned for an unknown Role, or a coach whose target is itself or absent.
	ErrBadRole = errors.New("mixer: bad role")
	// ErrSelfPair is returned for a matrix pair whose listener and speaker are the same
	// participant: minus-one means nobody hears itself, whatever the gain.
	ErrSelfPair = errors.New("mixer: listener and speaker are the same participant")
)

// ErrBadPan is returned for a pan outside -1 to 1 or not a number; nothing is changed.
var ErrBadPan = errors.New("mixer: pan outside -1 to 1")
