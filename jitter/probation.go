package jitter

// Probation is the one rule by which confd believes that an incoming RTP stream restarted (RFC
// 3550 section 8 and appendix A.1): a packet from another SSRC, or one whose sequence number is
// further from the stream's than reordering explains, starts a new stream only when the next
// packet continues it — the same SSRC again, the next sequence number. So a stray packet, two
// sources interleaved, or one garbled sequence number disturb nothing, while a sender that
// really restarted loses one packet to the doubt.
//
// The jitter buffer follows it for its playout, and confd's RTCP receive statistics
// (bridge.RTPReceiver) for the loss and jitter they report, so that the two never disagree about
// which packets make the stream. Each decides for itself what "too far" is: the buffer, a packet
// outside its slots; the statistics, RFC 3550's MAX_DROPOUT and MAX_MISORDER.
//
// The zero value is ready to use; it allocates nothing and is not safe for concurrent use.
type Probation struct {
	ssrc        uint32
	ssrcSet     bool
	stranger    uint32 // SSRC of the last packet from another source
	strangerSet bool
	jumpNext    uint16 // the sequence number that confirms the last far jump
	jumpSet     bool
}

// Source reports whether a packet of ssrc belongs to the stream (take), and whether it starts it
// anew (restart): the stream's own packets and the first packet ever are taken; a packet of
// another source is not, until a second one of that source comes right after it, which restarts
// the stream with that source.
func (p *Probation) Source(ssrc uint32) (take, restart bool) {
	if p.ssrcSet && ssrc != p.ssrc {
		if !p.strangerSet || ssrc != p.stranger {
			p.stranger, p.strangerSet = ssrc, true
			return false, false
		}
		restart = true
	}
	p.ssrc, p.ssrcSet, p.strangerSet = ssrc, true, false
	return true, restart
}

// Jump is called for a packet of the stream whose sequence number seq is too far from the
// stream's to be loss or reordering. It reports whether the jump is believed: only when seq
// follows the previous such packet, for then the sender restarted its numbering (RFC 3550
// appendix A.1, bad_seq). The caller restarts its stream at seq when it is; otherwise it drops
// the packet.
func (p *Probation) Jump(seq uint16) bool {
	if p.jumpSet && seq == p.jumpNext {
		p.jumpSet = false
		return true
	}
	p.jumpNext, p.jumpSet = seq+1, true
	return false
}
