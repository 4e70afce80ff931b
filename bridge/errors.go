package bridge

import "errors"

var (
	// errShortBuffer is returned when a caller's packet buffer cannot hold the header and payload.
	errShortBuffer = errors.New("bridge: packet buffer too short")
)
