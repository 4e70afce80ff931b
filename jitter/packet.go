package jitter

import "confd/codec"

// Packet is what a leg hands to Push for one received RTP packet: the header fields of RFC 3550
// section 5.1 the buffer orders and times by, the payload, and what the leg learnt from header
// extensions.
type Packet struct {
	// PayloadType is the RTP payload type, which Config.PayloadTypes must list.
	PayloadType uint8
	// SequenceNumber is the RTP sequence number; it orders packets and reveals loss.
	SequenceNumber uint16
	// Timestamp is the RTP timestamp in the payload type's clock; it places the packet in the
	// sender's media timeline.
	Timestamp uint32
	// Marker is the RTP marker bit, set by audio senders on the first packet of a talkspurt (RFC
	// 3551 section 4.1).
	Marker bool
	// SSRC identifies the stream; a new SSRC restarts the buffer (RFC 3550 section 8).
	SSRC uint32
	// Payload is the RTP payload. Push copies it into a preallocated slot, so the caller may
	// reuse its buffer as soon as Push returns.
	Payload []byte
	// Level is the RFC 6464 client-to-mixer audio level from the header extension, valid when
	// HasLevel.
	Level codec.Level
	// HasLevel says whether the packet carried an RFC 6464 level.
	HasLevel bool
	// Voice is the RFC 6464 voice-activity flag, meaningful when HasLevel.
	Voice bool
}
