package bridge

import (
	"time"

	"confd/jitter"
)

// selfMuteWindow is how soon after '*' a '6' must follow to toggle self-mute (docs/SPEC.md: "*6").
const selfMuteWindow = 3 * time.Second

// DTMF reports a digit the participant sent by SIP INFO (RFC 4733 digits arrive through the
// jitter buffer and come here too): it publishes a dtmf event, toggles self-mute on "*6", and
// hands the digit to the leg's OnDigit (the IVR).
func (p *Participant) DTMF(digit byte, now time.Time) {
	r := p.room.Load()
	r.b.bus.Publish(Event{Type: EventDTMF, Room: r.name, Participant: p.id, Data: map[string]any{"digit": string(digit)}})
	p.dtmfMu.Lock()
	star := p.lastDigit == '*' && now.Sub(p.lastDigitAt) < selfMuteWindow
	p.lastDigit, p.lastDigitAt = digit, now
	p.dtmfMu.Unlock()
	if star && digit == '6' {
		// Queued for the room's owner, not waited for: the caller may be the leg's packet
		// reader, inside PushRTP.
		p.ownLater(func(r *Room) {
			if p.left.Load() {
				return
			}
			muted := !r.mix.Muted(p.mid)
			_ = r.mix.SetMuted(p.mid, muted)
			p.refresh(r)
			r.b.bus.Publish(Event{Type: EventMute, Room: r.name, Participant: p.id, Data: map[string]any{"muted": muted, "by": "self"}})
		})
	}
	if p.info.OnDigit != nil {
		p.info.OnDigit(digit)
	}
}

// handleEvent receives the telephone-event and comfort-noise packets the jitter buffer sets
// aside, from within PushRTP (so under pktMu), and decodes RFC 4733 events into digits, one per
// event however many times its end packet is repeated.
func (p *Participant) handleEvent(e jitter.Event, now time.Time) {
	if e.Kind != jitter.TelephoneEvent || p.events == nil {
		return
	}
	digits, err := p.events.Push(now, e.Timestamp, e.Marker, e.Payload)
	p.digitPending.Store(p.events.Pending())
	if err != nil {
		return // a payload too short for an event: the receiver counts it (ReceiverStats.Malformed)
	}
	for _, d := range digits {
		p.DTMF(byte(d.Digit), now)
	}
}

// expireDigit reports the participant's digit whose end packets were all lost, once its event
// has been quiet for the receiver's timeout (dtmf.Receiver.Expire, the one rule; the IVR uses it
// too). The room's tick calls it, with the tick's time, so that a phone that sends nothing after
// the digit (silence suppression) does not keep a *6 or a moderator's key waiting for its next
// packet. It allocates nothing unless a digit is reported.
func (p *Participant) expireDigit(now time.Time) {
	if !p.digitPending.Load() {
		return
	}
	p.pktMu.Lock()
	defer p.pktMu.Unlock() // held while reporting, as handleEvent does: digits stay in order
	if p.events == nil {
		return
	}
	d, ok := p.events.Expire(now)
	p.digitPending.Store(p.events.Pending())
	if ok {
		p.DTMF(byte(d.Digit), now)
	}
}
