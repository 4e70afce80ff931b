// Package gophone is the tests' own SIP phone, written in Go: the one that e2e/phones, cmd/confd
// and bench/load call confd with (sipleg's rawClient, which sends malformed input on purpose,
// is another thing and stays in sipleg).
//
// UA is the signalling: a minimal SIP user agent over UDP (RFC 3261: INVITE with an SDP offer,
// ACK of the 2xx, BYE, and a 200 for the BYE confd sends), one socket for any number of
// Dialogs; a load generator places a thousand calls on one. Phone is one call with media: a UA
// of its own, and a media socket that sends its own sine tone, encoded with confd/codec, every
// 20 ms (RFC 3550), and decodes what it receives into a Timeline: 48 kHz PCM placed by RTP
// timestamp and anchored on arrival time, so that Heard(from, to) returns exactly what reached
// the phone between two instants, silence included.
//
// Levels are medians over 200 ms pieces that arrived whole (Timeline.Level), so a process
// starved for a moment on the shared test machine does not pass for a change in the mix.
package gophone
