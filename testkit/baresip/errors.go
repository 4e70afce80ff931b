package baresip

import "errors"

// ErrNotInstalled means the peer's program was not found on PATH (scripts/setup.sh test
// installs it).
var ErrNotInstalled = errors.New("baresip: program not installed")

// ErrExited means the peer process ended while a command or a wait was pending.
var ErrExited = errors.New("baresip: process exited")

// ErrTimeout means an expected call state or command response did not come in time.
var ErrTimeout = errors.New("baresip: timed out")

// ErrCommand means the peer answered a control command with ok=false.
var ErrCommand = errors.New("baresip: command failed")

// ErrNoRecording means the peer's recorder has written no decoded audio (no call reached the
// media stage).
var ErrNoRecording = errors.New("baresip: no recording")

// ErrBadConfig means a Config field holds a value the peer cannot use.
var ErrBadConfig = errors.New("baresip: bad config")
