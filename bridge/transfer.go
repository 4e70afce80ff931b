package bridge

import (
	"context"
	"errors"
	"fmt"
)

// EventTransfer reports the progress of a transfer out of the room (Participant.Transfer),
// with data {uri, state, status?, reason?}: state "accepted" once the peer accepted the
// request (SIP: 202 to the REFER), "progress" for each provisional status the peer reports
// (RFC 3515 section 2.4.5: a NOTIFY carrying a message/sipfrag status line, RFC 3420),
// "succeeded" when the peer reached the target (2xx) — the participant then leaves with reason
// "transferred" — and "failed" when the peer refused the request, the target refused the
// call (3xx-6xx) or nothing came in time; after "failed" the participant stays in the room.
const EventTransfer EventType = "transfer"

// ErrNotTransferable: the participant's leg cannot be handed to another destination (a WebRTC
// or SIP-over-WebSocket participant, another node's cascade leg, confd's own) (HTTP 409).
var ErrNotTransferable = errors.New("bridge: participant cannot be transferred")

// TransferLeg is a Leg that can hand its peer over to another destination: a SIP call asks its
// phone to call the target (REFER, RFC 3515) and leaves the room once the phone has reached it.
type TransferLeg interface {
	Leg
	// Transfer starts asking the peer to call target (a sip: or sips: URI) and returns at
	// once; the peer's answer, progress and the outcome are published as EventTransfer. It
	// returns ErrNotTransferable when this leg cannot be transferred now (a transfer already
	// in progress included), and ErrBadSetting for a target it cannot use.
	Transfer(ctx context.Context, target string) error
}

// Transfer asks the participant's peer to call target instead of being in the room (a SIP
// call: REFER); other legs answer ErrNotTransferable.
func (p *Participant) Transfer(ctx context.Context, target string) error {
	t, ok := p.leg.(TransferLeg)
	if !ok || p.Internal() {
		return fmt.Errorf("%w: participant %s (%s) is not a SIP call confd can send REFER in (WebRTC and SIP over WebSocket participants, and confd's own, cannot be transferred)", ErrNotTransferable, p.id, p.info.Kind)
	}
	return t.Transfer(ctx, target)
}

// PublishTransfer publishes an EventTransfer for the participant with data (see EventTransfer):
// its leg's report of a transfer's progress.
func (p *Participant) PublishTransfer(data map[string]any) {
	r := p.room.Load()
	r.b.bus.Publish(Event{Type: EventTransfer, Room: r.name, Participant: p.id, Data: data})
}
