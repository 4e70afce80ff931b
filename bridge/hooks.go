package bridge

import (
	"time"

	"confd/codec"
	"confd/jitter"
	"confd/mixer"
)

// JitterStats returns the participant's jitter-buffer counters (the zero Stats for one that
// sends nothing), for metrics.
func (p *Participant) JitterStats() jitter.Stats {
	if buf := p.buf.Load(); buf != nil {
		return buf.Stats()
	}
	return jitter.Stats{}
}

// SenderStats returns what confd has sent the participant, for metrics.
func (p *Participant) SenderStats() RTPSenderStats { return p.sender.Stats() }

// peopleIn counts the participants of parts that are people: what a room's limit limits.
func peopleIn(parts []*Participant) int {
	n := 0
	for _, p := range parts {
		if p.person() {
			n++
		}
	}
	return n
}

// SetPCMTap installs tap (nil removes it): it is called, on the room's goroutine, with every
// frame the mixer decoded from a participant, and the tick's time — what per-participant
// recording tracks are made of. tap must not block or keep f.
func (r *Room) SetPCMTap(tap func(participant string, now time.Time, f *codec.Frame)) {
	r.do(func() { r.tap = tap })
}

// JoinSource joins a participant whose audio comes from src instead of from RTP (an
// announcement or tone player), with the same checks as Join. info.Input is ignored.
func (b *Bridge) JoinSource(room string, info ParticipantInfo, src mixer.Source, leg Leg) (*Participant, error) {
	if src == nil {
		return nil, ErrBadSetting
	}
	info.Input = nil
	return b.joinWith(room, info, leg, src)
}

// Participants returns everyone in the room, confd's own recorders and players included.
func (r *Room) Participants() []*Participant {
	return append([]*Participant(nil), r.snapshot().parts...)
}
