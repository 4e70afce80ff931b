// Package bridge joins legs into rooms: a room owns one mixer and one clock goroutine that ticks
// every 20 ms on absolute time; legs (SIP, WebRTC) only read their sockets and push packets into
// their jitter buffers, and send what the room's tick hands them. Join, leave and matrix changes
// reach the room as messages applied between ticks, so the tick needs no lock. An event Bus carries
// what happens (join, leave, talking, dtmf, mute, role, dial, recording) to the API, the web page,
// webhooks and metrics without ever blocking the media path.
package bridge
