// Package jitter is confd's adaptive playout buffer: one Buffer per leg turns the leg's RTP
// packets, arriving with network jitter, loss and reordering, into one 20 ms codec.Frame per mixer
// tick, with as little delay as the network allows.
//
// # Use
//
// The leg's reader goroutine calls Push for every RTP packet, with the header fields, the payload
// and what the header extensions said (RFC 6464 level). The room's tick goroutine calls Advance
// once per tick, which reports the tick's codec.Activity without decoding, and then Read for the
// legs the mixer wants to hear, which decodes. Nothing inside owns a goroutine or a timer: time is
// the now argument, so tests drive it with synthetic clocks.
//
// # The media timeline and the playout delay
//
// Each audio packet is placed in the sender's media timeline, in samples at 48 kHz, from its RTP
// timestamp and its payload type's clock (RFC 3550 section 5.1). A codec change with another clock
// continues the timeline one packet step after the newest packet. The playout keeps a cursor in
// that timeline. Its delay is measured against the fastest path seen in the last two seconds:
// with transit = arrival − media time, the delay of the playout is now − min(transit) − cursor.
// That number, not the buffer's fill level, is what the rules below steer, because it stays the
// same across DTX gaps, packet sizes and codec changes.
//
// # Target delay
//
// As WebRTC NetEq's DelayManager does, every audio packet's relative arrival delay (its transit
// minus the smallest transit of the last 2 s) goes into a histogram that forgets geometrically
// (factor 0.983 per packet, plain averaging while there are few samples so that the 40 ms start
// value is replaced within about a second). The target is the histogram's 98th percentile — a
// clean network gives 0 — clamped to [MinDelay, MaxTarget] (MaxDelay unless set lower). While
// loss is seen on an Opus stream (a loss rate above 1%, averaged over 256 packets, with
// hysteresis, and a loss in the last 4 s) the target is at least 30 ms, MaxTarget permitting: one
// frame in hand, so that the packet after a lost one has arrived when the lost one is due, and
// its in-band FEC replaces concealment.
//
// # Rules of one tick
//
// Advance plans the tick's 960 samples as units: packets, concealments, FEC recoveries and
// silences, in sequence-number order.
//
//   - Idle (before a talkspurt): the first stored audio packet starts playing once now reaches
//     its fastest possible arrival plus the target. Every talkspurt starts this way, so the delay
//     adapts in silence, where nobody hears it, and a buffer that drained fills again to the
//     target (Janus prebuffers 120 ms once and never recovers after a drain).
//   - The next packet is present and continues the cursor: it is played. If the delay is below
//     the target (it rose, or loss asks for a frame in hand), one concealment is played first: the
//     delay grows by a frame per tick, fast on a spike. If the delay without the packet would still be
//     above the highest target of the last second, by a margin of half that target (at most 10
//     ms; none for a clean network), and the packet after it is in hand, the packet is dropped
//     instead: silent or quiet packets (Opus DTX, the Opus voice flag off, an RFC 6464 level
//     at or below -40 dBov without the voice flag) at once; voiced ones only after the excess
//     waited 400 ms for a pause in vain, and then at most every 100 ms; anything above MaxDelay.
//     A dropped packet is not cut but time-compressed away (below).
//     The peak and the margin keep the delay from see-sawing on estimation noise: a sender whose
//     clock is 0.2% off costs about one frame inserted or dropped per 10 s, as it must. All
//     packets shorter than a tick must be here at its start, so the delay that counts is that
//     of the tick's last packet.
//   - The next packet starts later in the timeline (DTX, a silence before a marked talkspurt
//     start): the playout goes idle, which is silence, not loss, and restarts as above.
//   - Telephone-event and comfort-noise packets use up their sequence numbers and are passed over;
//     comfort noise marks the start of a silence, so the empty buffer after it is not concealed.
//   - The next packet is missing and a later one is present: once the delay has reached the
//     target the missing ones are lost (counted), their span is concealed, and the last of them is
//     recovered from the later packet's FEC when the codec has it (Opus LBRR). Before that, the
//     playout waits as below, for a packet that is only reordered.
//   - Nothing is stored: the playout conceals for up to 100 ms (the time libopus takes to fade
//     out), counting the concealed span as credit so that a packet declared lost later is not
//     concealed twice, and then goes idle. After DTX or comfort noise it goes idle at once.
//
// A packet that arrives after its turn is late: dropped and counted. So is a packet that would
// play more than MaxDelay (plus a frame) behind the fastest path, which bounds the delay even when
// the jitter is far above MaxDelay, and drains a buffer whose tick stopped for a while. But when
// every packet for 100 ms came that late itself, the path has moved, not spiked (a sender that
// stalled and went on with contiguous timestamps, as a starved phone does; a slower route): the
// fastest path is forgotten and a talkspurt starts at the packet, so that the stream is not
// dropped until the old fast packets leave the two-second window. Events
// with the audio paused (a long key press) are passed over while idle, so they never fill the
// window. Sequence numbers are
// extended through wrap-around as in RFC 3550 appendix A.1; a jump of more than the capacity is
// believed only when the next packet continues it, and then restarts the stream, as a new SSRC
// does — which is also believed only from its second packet in a row, so that a stray packet or
// an interleaved second source cannot flush a live stream. A timestamp jump that no network explains (more than 1 s of transit change) re-anchors the
// timeline instead of being measured as delay or played as a gap. Every loop in Advance is bounded
// by the capacity, so no input makes a tick slow, and all storage is allocated in New.
//
// # Decode stage
//
// Read produces the planned units: a packet longer than the tick (30, 40, 60 ms) is decoded once
// and its samples carried to the following ticks; a 10 ms packet makes two units. Ticks without
// Read consume their packets undecoded. When a decoder's units are not consecutive (a skipped
// Read, a silence, another payload type in between) it first runs one concealment whose output
// is discarded, so it resumes from a faded state instead of decoding across the gap as if the
// audio were continuous; unlike a reset this allocates nothing (the Opus decoder's reset
// allocates, so it is kept for stream restarts).
//
// # Shrinking without a click
//
// Cutting a 20 ms frame out of periodic audio splices the waveform: a 440 Hz tone turns by 0.8
// of a cycle (72 degrees), a click on any tonal sound, and a long Goertzel sum over the call (how
// the end-to-end tests judge a tone) falls by tens of dB after a few cuts. So a dropped packet is
// decoded all the same, as a unit that takes no time in the tick, and Read time-compresses it
// away with the tick's audio, as WebRTC NetEq's Accelerate does (WSOLA): on the queue of what is
// still to play — the samples the last compression held back, the dropped packets, the tick's 20
// ms — it searches, at 12 kHz and then at 48 kHz around the best lag, the lag T within 20 ms below
// the excess at which the first 10 ms match the audio T later best (normalised correlation,
// preferring the longest lag within 0.1 of the best match: a whole number of pitch periods),
// cross-fades the first 5 ms into the audio T later with a raised cosine, and plays the first 20
// ms of the rest. A periodic signal runs on with its phase within a degree; the excess minus T
// (less than a pitch period, at most 20 ms) is held back and goes with the next compression. Where
// nothing is periodic enough (a correlation below 0.7: noise, a transient, silence) the excess
// goes whole at the same cross-fade. A tick compresses at most 60 ms; a further drop waits for the
// next tick. DTX frames, packets longer than 60 ms and ticks without Read are cut as before, and
// what was held back is let go when a talkspurt ends or a tick is not read. The queue and the
// search's scratch are part of the Buffer, so this allocates nothing.
//
// Growing the delay is the same splice the other way: a 20 ms concealment inserted before a
// packet that is here ends 20 ms ahead of it. So a tick that grows the delay by a whole frame
// repeats, when the 40 ms before it are periodic, the last pitch period (the longest lag up to
// 20 ms at which they repeat) as many times as fill the tick, holding the surplus back as above
// (at most 20 ms in all), and the packet follows where the repetition ends, as NetEq's
// PreemptiveExpand does. Otherwise the decoder conceals as before.
//
// What a squeeze or a stretch holds back is delay the playout did not plan: its cursor does not
// count it, so on a stream that never pauses (a trunk, a cascade between nodes) no drop would
// ever take it away, and a stretch's surplus (up to a 20 ms pitch period) would stay for the
// whole call. So a surplus of 5 ms or more is squeezed away in the next tick, by the same
// search: whole pitch periods where they fit, else the same cross-fade; but while the audio
// repeats at a period longer than the surplus (a low tone, hum), no cut of it is seamless, and
// it waits for the signal to change, a squeeze or the talkspurt's end.
//
// # Concurrency
//
// Push and Advance meet at a sync.Mutex around the packet store and the arrival statistics,
// held for well under a microsecond and never during a decode. A lock-free single-producer ring
// would hand packets over in arrival order only, while the playout needs to look at any packet in
// the window (the one after a gap for FEC, the first of a talkspurt). Stats are atomic counters,
// readable from any goroutine.
package jitter
