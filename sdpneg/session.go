package sdpneg

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"strings"

	"confd/codec"
)

// Session is confd's SDP state across one SIP dialog: the o= session id and version, the m-line
// layout, and the payload type numbers bound to codecs. RFC 3264 section 8 asks that every SDP
// confd sends in a dialog keep the o= id, increment the version exactly when the SDP changes,
// keep the m-line count and order, and (section 8.3.2) never rebind a payload type number.
//
// A Session is not safe for concurrent use; a dialog handles one offer/answer at a time anyway.
type Session struct {
	id, version uint64
	last        []byte // confd's last SDP, to tell whether the next one changed
	slots       []slot // the m-line layout of the last exchange
	proto       string // the audio transport of the dialog, once negotiated
	pts         map[ptKey]uint8
	offer       *description // confd's offer awaiting an answer
	offerDir    Direction

	remoteSeen              bool
	remoteID, remoteVersion uint64
}

// ptKey names a codec or event format by encoding name (lower case) and clock.
type ptKey struct {
	name  string
	clock int
}

func keyOf(name string, clock int) ptKey { return ptKey{strings.ToLower(name), clock} }

// The dynamic payload types confd offers unless the dialog already bound others.
const (
	ptOpus     = 111
	ptEvent48k = 110
	ptEvent8k  = 101
)

// NewSession returns a Session with a random o= session id (RFC 4566 section 5.2 asks only
// for uniqueness) and version 1.
func NewSession() *Session {
	return &Session{id: rand.Uint64() >> 2, version: 1, pts: map[ptKey]uint8{}}
}

// Origin returns the o= session id and the version of the last SDP the session wrote.
func (s *Session) Origin() (id, version uint64) { return s.id, s.version }

// Answer answers an SDP offer (RFC 3264 section 6) — the INVITE's, a re-INVITE's or an
// UPDATE's — and returns the negotiated Result and the answer body. The answer uses the offer's
// first acceptable audio m-line and rejects every other m-line with port 0, keeping the
// offer's m-line count and order. On an error nothing in the Session changes: answer the
// request with RejectionFor(err), or hand an ErrWebRTCOffer to the WebRTC stack.
func (s *Session) Answer(offer []byte, local Local) (*Result, []byte, error) {
	l, err := local.normalized()
	if err != nil {
		return nil, nil, err
	}
	d, err := parse(offer)
	if err != nil {
		return nil, nil, err
	}
	r, m, err := negotiateOffer(d, l)
	if err != nil {
		return nil, nil, err
	}
	slots := slotsOf(d, r.MediaIndex)
	body, err := s.write(l, slots, answerLine(r, m, l))
	if err != nil {
		return nil, nil, err
	}
	s.slots = slots
	s.proto = m.proto
	s.bind(r)
	s.offer = nil
	s.noteRemote(r)
	return r, body, nil
}

// Offer writes an SDP offer: for dial-out, for the late offer of an INVITE without SDP (confd
// offers in the 200 and the caller answers in the ACK), or for a re-INVITE or UPDATE within
// the dialog (hold with Local.Direction, unhold, a codec change with Local.Codecs). It lists
// Local.Codecs in order, then telephone-event/48000 (when Opus is offered) and
// telephone-event/8000. A re-offer keeps the dialog's m-line layout and payload type numbers.
// Pass the answer to ParseAnswer.
func (s *Session) Offer(local Local) ([]byte, error) {
	l, err := local.normalized()
	if err != nil {
		return nil, err
	}
	slots := s.slots
	if slots == nil {
		slots = []slot{{audio: true}}
	}
	proto := "RTP/AVP"
	if s.proto != "" {
		proto = s.proto // a re-offer keeps the dialog's RTP/AVPF
	}
	var formats []PayloadFormat
	used := map[uint8]bool{}
	for _, c := range l.Codecs {
		if pt, ok := c.StaticPayloadType(); ok {
			used[pt] = true
		}
	}
	for _, c := range l.Codecs {
		pt, ok := c.StaticPayloadType()
		if !ok {
			pt = s.payloadType(keyOf(c.String(), c.ClockRate()), ptOpus, used)
		}
		formats = append(formats, codecFormat(c, pt))
	}
	if !l.NoTelephoneEvent {
		if slicesContains(l.Codecs, codec.Opus) {
			formats = append(formats, eventFormat(s.payloadType(keyOf("telephone-event", 48000), ptEvent48k, used), 48000))
		}
		formats = append(formats, eventFormat(s.payloadType(keyOf("telephone-event", 8000), ptEvent8k, used), 8000))
	}
	ptime := l.PacketTime
	ptime = cmp.Or(ptime, codec.FrameDuration)
	audio := audioLine{port: l.Port, rtcpPort: l.RTCPPort, proto: proto, formats: formats, ptime: ptime,
		dir: l.Direction, rtcpMux: !l.NoRTCPMux}
	body, err := s.write(l, slots, audio)
	if err != nil {
		return nil, err
	}
	d, err := parse(body)
	if err != nil {
		return nil, fmt.Errorf("sdpneg: own offer does not parse: %w", err)
	}
	s.slots = slots
	s.offer, s.offerDir = d, l.Direction
	for _, f := range formats {
		s.pts[keyOf(f.Name, f.ClockRate)] = f.Type
	}
	return body, nil
}

// ParseAnswer reads the answer to the session's last Offer (RFC 3264 section 6) and returns
// the Result, checking that the answer keeps the offer's m-lines and picked codecs that were
// offered. An answer comes in a 2xx or an ACK, which cannot be refused: on an error, end the
// dialog with BYE (RejectionFor gives the text for a Reason header).
func (s *Session) ParseAnswer(answer []byte) (*Result, error) {
	if s.offer == nil {
		return nil, ErrNoOffer
	}
	a, err := parse(answer)
	if err != nil {
		return nil, err
	}
	r, err := negotiateAnswer(a, s.offer, s.offerDir)
	if err != nil {
		return nil, err
	}
	s.offer = nil
	s.noteRemote(r)
	return r, nil
}

// write marshals confd's SDP, incrementing the version only when the SDP changed.
func (s *Session) write(l Local, slots []slot, audio audioLine) ([]byte, error) {
	body, err := build(l, s.id, s.version, slots, audio)
	if err != nil {
		return nil, err
	}
	if s.last != nil && !bytes.Equal(body, s.last) {
		s.version++
		if body, err = build(l, s.id, s.version, slots, audio); err != nil {
			s.version--
			return nil, err
		}
	}
	s.last = body
	return body, nil
}

// payloadType returns the number bound to k in this dialog, else def, else a free dynamic one.
func (s *Session) payloadType(k ptKey, def uint8, used map[uint8]bool) uint8 {
	pt, ok := s.pts[k]
	if !ok || used[pt] {
		pt = def
		for n := uint8(96); used[pt] && n <= 127; n++ {
			pt = n
		}
	}
	used[pt] = true
	return pt
}

// bind records the payload types an answer used, so later offers keep them.
func (s *Session) bind(r *Result) {
	s.pts[keyOf(r.Codec.String(), r.Codec.ClockRate())] = r.LocalPayloadType
	if te := r.TelephoneEvent; te.Present() {
		s.pts[keyOf("telephone-event", te.ClockRate)] = te.LocalPayloadType
	}
}

// noteRemote sets r.Unchanged from the remote's o= line and remembers it.
func (s *Session) noteRemote(r *Result) {
	r.Unchanged = s.remoteSeen && r.RemoteSessionID == s.remoteID && r.RemoteSessionVersion == s.remoteVersion
	s.remoteSeen, s.remoteID, s.remoteVersion = true, r.RemoteSessionID, r.RemoteSessionVersion
}

func slicesContains(cs []codec.Codec, c codec.Codec) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}
