// Package phones holds confd's end-to-end moderation tests (issue 5): the confd binary runs as
// a process on loopback, participants call it with Go phones (confd/testkit/gophone)
// and baresip, and the
// control API mutes, deafens, kicks, re-weights and coaches them while each one's ears are
// judged by tone detectors (confd/testkit/audiotest).
//
// # Why a phone of its own
//
// A moderation rule is a change in time: "one second after the PATCH the tone is 20 dB down".
// baresip's recordings hold only the packets that arrived, back to back, with no clock
// (docs/REAL-PEERS.md), so they cannot be cut at the moment of an API call. The tests' own
// phone is confd/testkit/gophone: its Timeline returns exactly what reached it between
// two instants, silence included. baresip (confd/testkit/baresip) still takes part in
// the tests, so that a real phone is in the loop: it is kicked and must receive the BYE, and it
// hears a mute.
//
// Each participant sends its own frequency (440, 700, 1000, 1300, 1600 Hz) at -16.5 dBFS, so
// three of them mixed stay under the mixer's soft limiter (-6 dBFS) and every level measured is
// the mixer's gain, not the limiter's. Levels are medians over 200 ms pieces that arrived
// whole (Timeline.Level), so a process starved for a moment on the shared test machine does
// not pass for a rule: a rule must take a tone 20 dB down, and a tone no rule touches must stay
// within 1 dB (a gain of 0.5 within 0.5 dB of -6.02 dB).
//
// # What the tests hold
//
//   - mute: one second after PATCH {"muted":true} the caller's tone is 20 dB down in every
//     other participant's ears, a baresip phone's included; she still hears the room.
//   - deaf: she hears nothing 20 dB down; the others hear her and each other as before.
//   - kick: DELETE sends a BYE to a baresip phone and to a Go phone; both leave the list.
//   - gain: PUT /matrix with one pair at 0.5 takes that pair 6.02 dB down, nothing else.
//   - coach: heard by its target only, also by a participant who joins afterwards.
//   - mute-all: everyone muted but the coach (still whispering) and a monitor (never heard).
//   - events: an SSE client and a signed webhook see join, talking, mute and leave in order.
//
// The window before an API call is taken only once the room has settled (every phone's audio
// arrived whole and every expected tone is heard), and the window after slides to the first
// second that arrived whole, by up to 3 s.
//
// Each test runs its own confd with RTP ports in 36000-39999, apart from the other packages'
// daemons and baresip's, and -config first on the command line: internal/config.Parse finds it
// only there (TestConfigFileAfterOtherFlags holds that bug and skips while it stands).
package phones
