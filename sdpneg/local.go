package sdpneg

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"confd/codec"
)

// Local is confd's side of a negotiation: where it receives, what it supports and what it wants.
// Only Addr and Port must be set; every other zero value is a documented default.
type Local struct {
	// Addr is the address written in the c= and o= lines, where the remote sends RTP. Required.
	Addr netip.Addr
	// Port is the local RTP port (1-65535). Required.
	Port int
	// RTCPPort is the local RTCP port. Zero means Port+1, which needs no a=rtcp line (RFC 3605).
	RTCPPort int
	// Codecs are the codecs the engine supports, in confd's order of preference. Answers pick the
	// offerer's first codec that is in this set (the caller's order wins, RFC 3264 section 6.1);
	// offers list them in this order. Empty means Opus, PCMU, PCMA; add codec.G722 where the
	// engine has it.
	Codecs []codec.Codec
	// PacketTime is the packet time written as a=ptime, the one confd asks to receive. Zero means:
	// in an answer, the packet time confd will send (what the offer asked for, so that both
	// directions match); in an offer, 20 ms.
	PacketTime time.Duration
	// Direction is what confd wants to do: zero is SendRecv; SendOnly puts the remote on hold
	// (music or prompts still flow to it), Inactive holds both ways. An answer's direction is
	// this intersected with the reverse of the offer's.
	Direction Direction
	// NoTelephoneEvent leaves telephone-event (RFC 4733) out of offers and answers, so that DTMF
	// can only come as SIP INFO or in-band.
	NoTelephoneEvent bool
	// NoRTCPMux declines rtcp-mux (RFC 5761). By default confd accepts it when offered and offers
	// it, and must then accept RTCP on its RTP port as well as on RTCPPort.
	NoRTCPMux bool
	// Username is the o= user name. Empty means "confd".
	Username string
	// SessionName is the s= line. Empty means "confd".
	SessionName string
}

// defaultCodecs is the codec set of a zero Local.
var defaultCodecs = []codec.Codec{codec.Opus, codec.PCMU, codec.PCMA}

// normalized returns l with its defaults filled in, or ErrLocal.
func (l Local) normalized() (Local, error) {
	if !l.Addr.IsValid() {
		return l, fmt.Errorf("%w: no address", ErrLocal)
	}
	l.Addr = l.Addr.Unmap()
	if l.Port < 1 || l.Port > 65535 {
		return l, fmt.Errorf("%w: RTP port %d", ErrLocal, l.Port)
	}
	if l.RTCPPort < 0 || l.RTCPPort > 65535 {
		return l, fmt.Errorf("%w: RTCP port %d", ErrLocal, l.RTCPPort)
	}
	l.RTCPPort = cmp.Or(l.RTCPPort, l.Port+1)
	if len(l.Codecs) == 0 {
		l.Codecs = defaultCodecs
	}
	for i, c := range l.Codecs {
		if !c.Known() {
			return l, fmt.Errorf("%w: codec %v", ErrLocal, c)
		}
		if slices.Contains(l.Codecs[:i], c) {
			return l, fmt.Errorf("%w: codec %v listed twice", ErrLocal, c)
		}
	}
	if l.PacketTime < 0 || l.PacketTime > codec.MaxPacketDuration || l.PacketTime%time.Millisecond != 0 {
		return l, fmt.Errorf("%w: packet time %v", ErrLocal, l.PacketTime)
	}
	if l.Direction > Inactive {
		return l, fmt.Errorf("%w: direction %d", ErrLocal, l.Direction)
	}
	l.Username = cmp.Or(l.Username, "confd")
	l.SessionName = cmp.Or(l.SessionName, "confd")
	return l, nil
}
