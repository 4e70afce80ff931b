package sdpneg

import (
	"fmt"
	"slices"
	"strings"

	"confd/codec"
)

// Answer answers an SDP offer for a call that has no Session yet, per RFC 3264 section 6: see
// Session.Answer. Use a Session for any dialog that may see a re-INVITE or UPDATE.
func Answer(offer []byte, local Local) (*Result, []byte, error) {
	return NewSession().Answer(offer, local)
}

// negotiateOffer picks the offer's first acceptable audio m-line and its codec, and fills
// a Result for it. It writes nothing.
func negotiateOffer(d *description, l Local) (*Result, *media, error) {
	for _, m := range d.media {
		if m.kind == "audio" && m.port != 0 && m.class() == profileDTLS {
			return nil, nil, fmt.Errorf("%w: m-line %d is %s", ErrWebRTCOffer, m.index, m.proto)
		}
	}
	var sawAudio, sawSecure bool
	var offered []string
	var profiles []string
	for _, m := range d.media {
		if m.kind != "audio" || m.port == 0 {
			continue
		}
		sawAudio = true
		switch m.class() {
		case profileSDES:
			sawSecure = true
			continue
		case profileOther:
			profiles = append(profiles, m.proto)
			continue
		}
		p, c, ok := pickCodec(m, l.Codecs)
		if !ok {
			for _, p := range m.payloads {
				if !p.IsTelephoneEvent() {
					offered = append(offered, p.describe())
				}
			}
			continue
		}
		r := &Result{Codec: c, PayloadType: p.Type, LocalPayloadType: p.Type}
		r.Accepted = []Payload{{Type: p.Type, Codec: c}}
		if err := r.fillRemote(d, m, !l.NoRTCPMux); err != nil {
			return nil, nil, err
		}
		if c == codec.Opus {
			r.Opus = ParseOpusParams(p.Fmtp)
			r.Opus.Present = p.Fmtp != ""
		}
		if !l.NoTelephoneEvent {
			if te, ok := pickEvent(m.payloads, c.ClockRate()); ok {
				r.TelephoneEvent = TelephoneEvent{
					PayloadType: te.Type, LocalPayloadType: te.Type, ClockRate: te.ClockRate,
					Events: te.Fmtp,
				}
			}
		}
		r.LocalDirection = r.RemoteDirection.Reverse().And(l.Direction)
		return r, m, nil
	}
	switch {
	case offered != nil:
		return nil, nil, fmt.Errorf("%w: offered %s; supported %s", ErrNoCommonCodec,
			strings.Join(offered, ", "), codecList(l.Codecs))
	case sawSecure:
		return nil, nil, fmt.Errorf("%w: offer RTP/AVP", ErrSecureProfile)
	case profiles != nil:
		return nil, nil, fmt.Errorf("%w: %s (RTP/AVP or RTP/AVPF only)", ErrUnsupportedProfile, strings.Join(profiles, ", "))
	case sawAudio:
		return nil, nil, fmt.Errorf("%w: no audio format in the offer", ErrNoCommonCodec)
	}
	return nil, nil, fmt.Errorf("%w: %d m-lines, none is audio with a port", ErrNoAudio, len(d.media))
}

// pickCodec returns the m-line's first payload whose codec is supported: the offerer's order
// wins (RFC 3264 section 6.1).
func pickCodec(m *media, supported []codec.Codec) (PayloadFormat, codec.Codec, bool) {
	for _, p := range m.payloads {
		if c, ok := p.codecOf(); ok && slices.Contains(supported, c) {
			return p, c, true
		}
	}
	return PayloadFormat{}, 0, false
}

// pickEvent returns the telephone-event payload at clock, else the one at 8000 Hz.
func pickEvent(payloads []PayloadFormat, clock int) (PayloadFormat, bool) {
	var fallback PayloadFormat
	found := false
	for _, p := range payloads {
		if !p.IsTelephoneEvent() {
			continue
		}
		if p.ClockRate == clock {
			return p, true
		}
		if p.ClockRate == 8000 && !found {
			fallback, found = p, true
		}
	}
	return fallback, found
}

func codecList(cs []codec.Codec) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = fmt.Sprintf("%s/%d", c, c.ClockRate())
	}
	return strings.Join(s, ", ")
}

// answerLine is the audio m-line confd answers r with.
func answerLine(r *Result, m *media, l Local) audioLine {
	a := audioLine{
		port: l.Port, rtcpPort: l.RTCPPort, proto: m.proto, dir: r.LocalDirection, rtcpMux: r.RTCPMux,
		ptime: l.PacketTime,
	}
	if a.ptime == 0 {
		a.ptime = sendPacketTime(r.PacketTime, r.MaxPacketTime)
	}
	a.formats = []PayloadFormat{codecFormat(r.Codec, r.PayloadType)}
	if te := r.TelephoneEvent; te.Present() {
		a.formats = append(a.formats, eventFormat(te.PayloadType, te.ClockRate))
	}
	return a
}

// slotsOf returns the m-line layout of an SDP with audio at index audio and every other line
// rejected with its own media, transport and formats.
func slotsOf(d *description, audio int) []slot {
	slots := make([]slot, len(d.media))
	for i, m := range d.media {
		if i == audio {
			slots[i].audio = true
			continue
		}
		kind, proto := m.kind, m.proto
		if kind == "" {
			kind, proto = "application", "UDP"
		}
		slots[i].rejected = rejectedLine{kind: kind, proto: proto, formats: m.formats}
	}
	return slots
}
