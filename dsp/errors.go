package dsp

import "errors"

var (
	// ErrBadConfig is returned for a Config out of range (an AGC level above 0 dBov or below
	// MinAGCLevel, a noise suppression outside 0-MaxNoiseSuppressDB); the Preprocessor is left
	// as it was.
	ErrBadConfig = errors.New("dsp: preprocessor setting out of range")
	// ErrClosed is returned by SetConfig on a Preprocessor whose state has been freed.
	ErrClosed = errors.New("dsp: preprocessor closed")
	// ErrInit is returned by New when speexdsp cannot allocate a preprocessor state.
	ErrInit = errors.New("dsp: speexdsp could not allocate a preprocessor state")
)
