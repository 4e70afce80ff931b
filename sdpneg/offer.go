package sdpneg

import (
	"fmt"
	"strings"

	"confd/codec"
)

// Offer writes an SDP offer for a new dialog: see Session.Offer. Use a Session when the answer
// will be parsed (it remembers the offer) or the dialog may see a re-INVITE.
func Offer(local Local) ([]byte, error) {
	return NewSession().Offer(local)
}

// ParseAnswer reads answer as the answer to offer, an offer confd wrote (RFC 3264 section 6):
// the answer must have the offer's m-line count and media types, must not reject the audio, and
// must accept at least one offered codec. The Result's PayloadType is the answer's number for
// the codec (what to send with) and LocalPayloadType the offer's (what arrives).
func ParseAnswer(answer, offer []byte) (*Result, error) {
	o, err := parse(offer)
	if err != nil {
		return nil, fmt.Errorf("offer: %w", err)
	}
	a, err := parse(answer)
	if err != nil {
		return nil, err
	}
	dir := SendRecv
	if i := offeredAudio(o); i >= 0 {
		dir = o.media[i].dir
	}
	return negotiateAnswer(a, o, dir)
}

// offeredAudio returns the index of an offer's audio m-line, or -1.
func offeredAudio(o *description) int {
	for _, m := range o.media {
		if m.kind == "audio" && m.port != 0 && m.class() == profilePlain {
			return m.index
		}
	}
	return -1
}

// negotiateAnswer checks answer a against offer o, in which confd's direction was offerDir.
func negotiateAnswer(a, o *description, offerDir Direction) (*Result, error) {
	if len(a.media) != len(o.media) {
		return nil, fmt.Errorf("%w: %d m-lines answer %d", ErrAnswerMismatch, len(a.media), len(o.media))
	}
	for i := range a.media {
		if a.media[i].kind != o.media[i].kind {
			return nil, fmt.Errorf("%w: m-line %d is %s, offered %s", ErrAnswerMismatch, i, a.media[i].kind, o.media[i].kind)
		}
	}
	idx := offeredAudio(o)
	if idx < 0 {
		return nil, fmt.Errorf("%w: the offer has no audio", ErrAnswerMismatch)
	}
	// The answerer may have taken a later audio line of a (remote) offer with several.
	for i := idx; i < len(o.media); i++ {
		if a.media[i].kind == "audio" && a.media[i].port != 0 && o.media[i].port != 0 && o.media[i].class() == profilePlain {
			idx = i
			break
		}
	}
	am, om := a.media[idx], o.media[idx]
	if am.port == 0 {
		return nil, fmt.Errorf("%w: m-line %d has port 0", ErrRejected, idx)
	}
	if !strings.EqualFold(am.proto, om.proto) {
		return nil, fmt.Errorf("%w: m-line %d is %s, offered %s", ErrAnswerMismatch, idx, am.proto, om.proto)
	}
	r := &Result{}
	var names []string
	for _, p := range am.payloads {
		c, ok := p.codecOf()
		if !ok {
			if !p.IsTelephoneEvent() {
				names = append(names, p.describe())
			}
			continue
		}
		for _, q := range om.payloads {
			if qc, ok := q.codecOf(); ok && qc == c {
				if r.Accepted == nil {
					r.Codec, r.PayloadType, r.LocalPayloadType = c, p.Type, q.Type
					if c == codec.Opus {
						r.Opus = ParseOpusParams(p.Fmtp)
						r.Opus.Present = p.Fmtp != ""
					}
				}
				r.Accepted = append(r.Accepted, Payload{Type: p.Type, Codec: c})
				break
			}
		}
		if r.Accepted == nil {
			names = append(names, p.describe())
		}
	}
	if r.Accepted == nil {
		return nil, fmt.Errorf("%w: answer lists %s", ErrNotOffered, strings.Join(names, ", "))
	}
	if err := r.fillRemote(a, am, om.rtcpMux); err != nil {
		return nil, err
	}
	if te, ok := pickEvent(am.payloads, r.Codec.ClockRate()); ok {
		if ote, ok := pickEvent(om.payloads, te.ClockRate); ok && ote.ClockRate == te.ClockRate {
			r.TelephoneEvent = TelephoneEvent{
				PayloadType: te.Type, LocalPayloadType: ote.Type, ClockRate: te.ClockRate,
				Events: te.Fmtp,
			}
		}
	}
	r.LocalDirection = offerDir.And(r.RemoteDirection.Reverse())
	return r, nil
}
