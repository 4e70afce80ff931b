// Package bridge joins legs into rooms: a room owns one mixer and one goroutine that ticks every
// 20 ms on absolute time; legs (SIP, WebRTC) push packets into their jitter buffers and send what
// the room's tick hands them. A SIP leg is a PolledLeg: the room's tick reads its RTP socket
// itself before mixing (non-blocking recvmmsg with kernel arrival times), so that no goroutine
// wakes per packet; a WebRTC leg pushes from pion's reader goroutine. A room short of CPU skips
// the ticks it would start a frame late (ClockStats.Skipped) instead of running them in a burst.
//
// A room has one owner: while it has participants, its goroutine alone touches the mixer, the
// participant list and everything a tick uses. Join, leave, control (mute, deaf, roles, matrix,
// settings), RTCP loss reports, re-INVITEs and *6 reach it as changes queued for it and applied
// between ticks (at once when it is idle), so the tick takes no lock; a caller that needs the
// outcome waits for it, a leg's packet reader never does. Readers (the API's state, matrix and
// counts, metrics) never wait for the room either: they read a snapshot the owner publishes
// after every change, and per-participant atomics for what changes every tick (talking, level).
// No lock is taken inside another: a participant's pktMu (the reader's) and the room's queue
// lock are each held alone, which is what keeps a re-INVITE during a *6 from deadlocking.
//
// An event Bus carries what happens (join, leave, talking, dtmf, mute, role, dial, recording) to
// the API, the web page, webhooks and metrics without ever blocking the media path.
package bridge
