// Package rtpfwd streams a room's audio as plain RTP (RFC 3550) to a recorder or a transcriber:
// the RTP forwarders of Janus, as POST /api/rooms/ROOM/forwarders (docs/SPEC.md "RTP
// forwarders").
//
// A forwarder is a bridge leg that only listens. It joins its room as a participant of kind
// bridge.KindForwarder: it sends nothing, it is neither listed nor counted nor announced (its
// start and stop are the events forwarder_started and forwarder_stopped, never a join or a
// leave), and it hears what a plain listener hears, the room's mix, which it shares with the
// other listeners of its codec (one RTP header per tick, no encode of its own); or, with a
// participant named, that participant's own audio alone at full level, talking or not
// (mixer.SetSolo, one encode of its own). The room's tick writes each packet with the
// participant's bridge.RTPSender (its own SSRC, sequence numbers and timestamps, RFC 3550
// section 5.1) and hands it to the leg, which sends it with one non-blocking write(2) on a
// connected UDP socket of its own: a full socket buffer or an ICMP error from the destination
// drops the packet and counts it, and never delays the tick.
//
// # Security
//
// A forwarder sends to an address that never proved it wants the packets: no offer and answer,
// no ICE connectivity check, no RTCP back. Anyone who can create one can aim a stream of
// packets at any host. So forwarders are created with the API token only (a room token is
// refused), only towards the destinations of the configured allow list ([forwarders] allow:
// prefixes and port ranges; empty means forwarders are off), and only per_room of them per room
// (default 4). The destination is an IP address: no name is resolved, so a DNS answer cannot
// move a forwarder outside the list.
//
// # Life
//
// A forwarder ends on DELETE, when its room has nobody left in it (the room then ends), when
// the participant it forwards leaves (it would only send silence), when the bridge hangs it up
// (shutdown), and at Manager.Close; each way its participant leaves the room and its socket is
// closed.
package rtpfwd
