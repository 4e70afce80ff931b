// Package mixer is confd's real-time matrix mixer: once per tick (codec.FrameDuration) it turns
// every participant's input into what every participant hears, minus its own voice and shaped by
// the matrix, encoded once per distinct mix.
//
// The Mixer owns no goroutine and no timer; the room's goroutine calls Tick(now) and, between
// ticks, Add, Remove and the matrix setters, so the tick needs no lock. Time is an argument, so
// tests are deterministic. The tick allocates nothing once the encoder pools are warm.
//
// # One tick
//
//  1. Observe (phase 1). Every Source advances and reports its Activity. The level comes from
//     metadata where there is some (RFC 6464 header extension, G.711 energy, Opus DTX); only a
//     source whose level is unknown is read (decoded) here, and its level computed from PCM.
//     A per-participant detector (voice.go) keeps a noise floor under the level — it falls at
//     once, rises at 3 dB/s — and calls voice only what stands 9 dB above it and above
//     -60 dBov; the RFC 6464 V flag counts as voice when the level clears the absolute
//     threshold, since the sender's detector sees the spectrum and ours only the level. A fan
//     never dips, so the floor sits on it and it is never a talker; speech dips between
//     syllables, so the floor stays at the room's background. The first level heard seeds the
//     floor: a participant who joins with a fan running is never a talker, one who speaks at
//     once is found at the first pause. A level alone cannot tell a steady tone (a test peer
//     playing a tone file from its first packet) or a sustained vowel from a fan: both sit on
//     their own floor. So a loud signal that sits on its floor gets a look at its waveform —
//     normalised autocorrelation at lags of 1-10 ms on the frame decimated to 12 kHz, about
//     20k multiply-adds — at most every half second (a probe Read when the level came from
//     metadata): periodic is voice, broadband noise is not. A level that stays within 2 dB
//     for half a second gets the same check even when it stands clear of its floor, so a fan
//     switched on mid-call is a talker for half a second, not until the floor has climbed to it
//     (speech leaves a 2 dB band several times a second). Voice is held for Hold (200 ms) after
//     it stops.
//  2. Select (selection.go). TopK+1 places: free places go to the loudest talking candidates;
//     when they are full a candidate replaces the quietest only when SwitchMarginDB (3 dB)
//     louder. Why K+1: every listener should hear the K loudest voices other than its own. The
//     shared mix holds the loudest K; each of those K hears the other K-1 plus the (K+1)th, the
//     "reserve", who hears the shared mix itself. So a room of K+1 talkers is complete for
//     everyone, and the reserve costs no encode of its own. Entering and leaving talkers are
//     faded in and out over one frame (a linear crossfade: no step, no click); a talker removed
//     by a rule (mute, a role) is cut within 2.5 ms so the rule holds from the next tick on.
//     Coaches are not counted in K: each whispers to one listener only.
//  3. Read (phase 2). Only the selected talkers and whispering coaches not decoded in phase 1
//     are read: a room of a thousand mostly silent browsers decodes about K+1 streams a tick.
//     A participant's Processor (process.go: noise suppression, AGC) cleans each frame read here
//     before it is mixed, so it too runs for K+1 streams, never for the silent.
//  4. Mix (mixer.go, mix.go). Sums are int32. allSum is every selected talker; the shared mix
//     is the K in it; a talker with a default row hears allSum minus itself (one subtraction,
//     before limiting, so it never hears its own voice shaped by the limiter). A listener whose
//     explicit gains touch a mixed talker, or whose coach whispers, sums its own mix from the
//     at most K+1 contributors: O(K + its row), never O(N). A soft limiter (slope 1 at -6 dBFS,
//     tending to full scale) turns sums into int16 without wrap-around.
//  5. Encode (group.go). Output groups are keyed by codec.Format, which is exactly what
//     changes the bytes: per Format a shared group (every default listener gets the same
//     payload, as in Asterisk's softmix; FreeSWITCH and Janus encode per participant), a silent
//     group (the deaf, and talkers alone in the room: legs keep sending for NAT and RTCP, and
//     Opus DTX makes it nearly free), and a private group per listener whose mix is its own.
//     Encoding decides a bridge's capacity (≈145 µs per Opus frame against ≈0.5 µs to sum one
//     input), so a room costs about K+2 encodes per Format per tick however large it is.
//
// # Cost
//
// BenchmarkTick (fake encoders: the mixer's own work) on the project's shared 2-core machine under
// load: about 35 µs a tick for 1,000 participants and 165 µs for 5,000 (0.03-0.1 µs per silent
// listener), without allocating; BenchmarkTickOpus adds the four real encodes (shared mix and
// three minus-ones, ≈150 µs each). The periodicity check costs 15-50 µs per frame, once per half
// second per loud, steady participant.
//
// # Matrix rules
//
// Precedence as docs/SPEC.md says: mute and deaf, then role, then gain. A muted participant and a monitor
// are never selected; a coach is mixed only into its target's private mix; a deaf listener is
// put in the silent group; then the explicit gain (Q14 fixed point, 0 to 4) scales what is left.
// Rules are evaluated every tick, so they hold for later joiners too, and a change made between
// ticks shapes the next tick. SetTopK and SetFormat change a room's K and a leg's encoding
// between ticks (a settings change, a re-INVITE, a new expected loss for Opus FEC).
//
// # Stereo placement
//
// A pan per participant (SetPan) and per matrix pair (SetPairPan, Pair.Pan) place voices for
// listeners whose Format accepts stereo (codec.Format.Stereo: the SDP's stereo=1), with a
// constant-power law; see stereo.go. Such a listener hears stereo only while a pan applies to it,
// so a room without pans runs exactly as before. The stereo mixes mirror the mono ones (a shared
// mix, talkers' "all but me", private rows) and are summed only in ticks where someone hears
// stereo; the stereo Format is its own output-group key, so each distinct stereo mix is encoded
// once, and mono listeners' mixes are untouched (bit for bit).
//
// # Encoder switches
//
// A listener moving between groups changes the encoder its decoder follows. Private groups come
// from a per-Format pool (prewarmed at join, so talkers coming and going allocate nothing); a
// group taken from the pool is reset and primed with the last packet of the group the listener
// was in, so its look-ahead and prediction start from what the decoder has just heard, and the
// packet in progress (packet times above 20 ms) starts from that group's frames so far. A
// listener keeps its private encoder for PrivateLinger (500 ms) after its mix has become the
// shared one again, and returns to the shared group only at a packet boundary, so the shared
// encoder's history is by then exactly what the listener has been hearing. A shared encoder that
// sat idle (no listener for a packet: a room of two talkers) is primed the same way before it
// serves again. A listener enters a shared group only at a packet boundary (with packet times
// above 20 ms the packet in progress holds frames mixed before it joined, perhaps with its own
// voice), so until then it hears silence. Measured through real Opus on a tone (realcodec_test.go), the worst 10 ms SNR
// around a switch is 27 dB primed, against -0.6 dB (a click) unprimed and 45 dB steady; an
// encoder that implements StateCopier takes over the shared encoder's state instead.
package mixer
