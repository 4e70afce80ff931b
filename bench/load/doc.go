// Package load is confd's end-to-end load benchmark over loopback: a load generator in this
// process, pinned to CPU 1, places N calls into one room of a confd daemon that runs as a
// separate process pinned to CPU 0, and measures what the daemon costs and what its listeners
// get.
//
//   - SIP legs (BenchmarkLoadSIP): the test kit's SIP user agent (testkit/gophone.UA: INVITE
//     with an SDP offer, 200, ACK; BYE at the end, RFC 3261) and one UDP media socket per call.
//     K = 3 talkers send tone bursts of distinct frequencies, taking turns (an onset every 200 ms);
//     the other N − K listeners send pre-encoded near-silence every 20 ms, as phones with an
//     open microphone do (-70 dBFS noise, Opus without DTX, no RFC 6464 levels: issue 9's load;
//     Config.DTXListeners restores Opus DTX listeners). The figures include packets/s per
//     listener, packets received out of order or beyond what the sequence numbers account
//     for, packets of an unexpected payload type, and the generator's own CPU.
//   - WebRTC legs (BenchmarkLoadWebRTC): the same three SIP talkers and N WHEP listeners (pion
//     peer connections: ICE, DTLS-SRTP), so that confd's cost per WebRTC participant includes
//     SRTP and pion's per-packet work.
//   - BenchmarkWebRTCSendAllocs: the bridge and webrtcleg in this process, with a heap profile
//     at MemProfileRate 1, attributing every allocation to its stack: allocations per packet
//     on confd's own send path (the room's tick through webrtcleg's track into pion's SRTP
//     writer).
//
// A sample of the listeners decodes what it hears and finds each tone onset; the others only
// count their packets (loss from RTP sequence numbers, RFC 3550 appendix A.3). The figures:
// confd's CPU (utime + stime from /proc/PID/stat over a steady-state window) as a share of one
// core and in µs per participant per 20 ms tick; packet loss; and the added latency of each
// onset, from the send time of the talker packet that carries it (plus its position in the
// packet, as the talker's own stream decodes it) to the kernel's arrival time of the listener
// packet that carries it (plus its position in the decoded packet). Taking the talker's onset
// in its own decoded stream subtracts the direct encode→decode path of the talker's codec.
//
// Run it with go test -run '^$' -bench Load -benchtime 1x ./bench/load/ (README.md in bench
// has the figures); go test ./bench/load/ runs one small room as a test.
package load
