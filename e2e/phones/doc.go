// Package phones holds confd's end-to-end moderation tests (issue 5) and the small SIP phone
// they drive: the confd binary runs as a process on loopback, participants call it, and the
// control API mutes, deafens, kicks, re-weights and coaches them while each one's ears are
// judged by tone detectors (confd/internal/audiotest).
//
// # Why a phone of its own
//
// A moderation rule is a change in time: "one second after the PATCH the tone is 20 dB down".
// baresip's recordings hold only the packets that arrived, back to back, with no clock
// (/work/shared/REAL-PEERS.md), so they cannot be cut at the moment of an API call. Phone is a
// minimal SIP user agent over UDP (RFC 3261: INVITE with an SDP offer, ACK of the 2xx, BYE,
// and a 200 for the BYE confd sends) whose media side sends its own sine tone, encoded with
// confd/codec, every 20 ms (RFC 3550), and decodes what it receives into a Timeline: 48 kHz
// PCM placed by RTP timestamp and anchored on arrival time, so that Heard(from, to) returns
// exactly what reached the phone between two instants, silence included. baresip
// (confd/internal/peer) still takes part in the tests, so that a real phone is in the loop: it
// is kicked and must receive the BYE, and it hears a mute.
//
// Each participant sends its own frequency (440, 700, 1000, 1300 Hz) at -16.5 dBFS, so three
// of them mixed stay under the mixer's soft limiter (-6 dBFS) and every level measured is the
// mixer's gain, not the limiter's.
package phones
