package sdpneg

import (
	"fmt"
	"strconv"
	"strings"
)

// Audio is the first usable audio m-line of an SDP body (media "audio", port not 0), as its
// writer wrote it: what a leg that leaves negotiation to another stack needs to check an offer
// and read an answer. webrtcleg reads it before and after pion negotiates.
type Audio struct {
	// Profile is the m-line's transport as written, such as "UDP/TLS/RTP/SAVPF".
	Profile string
	// WebRTC is true when the profile is DTLS-SRTP: UDP/TLS/RTP/SAVP(F) (RFC 5764) and the
	// other TLS/RTP/SAVP(F) profiles, or RTP/SAVP(F) with an a=fingerprint at media or session
	// level (RFC 8829 section 5.1.2). It is the same rule that makes Answer return
	// ErrWebRTCOffer.
	WebRTC bool
	// Direction is the m-line's direction attribute, else the session's, else SendRecv (RFC 3264
	// section 5.1); the first one where a level has several, as pion reads it. A c= address of
	// 0.0.0.0 does not change it: it is no hold in a WebRTC offer, which writes it until it has
	// a candidate (RFC 8829 section 5.2.1).
	Direction Direction
	// Formats are the m-line's RTP payload types in its order, each with its rtpmap and fmtp.
	Formats []PayloadFormat
	// Extensions are the m-line's RTP header extensions (a=extmap, RFC 8285).
	Extensions []Extension
}

// PayloadFormat is one RTP payload type of an m-line as its a=rtpmap and a=fmtp describe it
// (RFC 8866 section 6.6 and 6.15), or as RFC 3551 defines a static type listed without rtpmap.
type PayloadFormat struct {
	// Type is the RTP payload type number.
	Type uint8
	// Name is the encoding name, such as "opus" or "telephone-event"; empty when the SDP names
	// none (a dynamic type without a readable rtpmap).
	Name string
	// ClockRate is the RTP clock in Hz.
	ClockRate int
	// Channels is the rtpmap's channel count, 0 when it gives none (RFC 8866 reads that as one,
	// except for Opus, which is always "/2": see IsOpus).
	Channels int
	// Fmtp is the a=fmtp parameters, such as "minptime=10;useinbandfec=1"; empty when absent.
	Fmtp string
}

// IsOpus reports whether the format is Opus as RFC 7587 section 7 writes it: opus/48000/2, the
// name in any case, the channel count "/2" or left out, which pion's codec match reads as 2
// (so does this, to accept what pion accepts).
func (p PayloadFormat) IsOpus() bool {
	return strings.EqualFold(p.Name, "opus") && p.ClockRate == 48000 && (p.Channels == 2 || p.Channels == 0)
}

// IsTelephoneEvent reports whether the format is RFC 4733 telephone-event.
func (p PayloadFormat) IsTelephoneEvent() bool { return strings.EqualFold(p.Name, "telephone-event") }

// Extension is one a=extmap line (RFC 8285 section 5): an RTP header extension's local id and
// URI.
type Extension struct {
	// ID is the local identifier, 1-14 in the one-byte header form and up to 255 in the
	// two-byte form (RFC 8285 section 4).
	ID uint8
	// URI names the extension, such as "urn:ietf:params:rtp-hdrext:ssrc-audio-level".
	URI string
}

// ReadAudio reads the first usable audio m-line of an SDP body. The body is read as written,
// as pion/sdp and so the WebRTC stack read it, without the repairs Answer makes for SIP
// devices. Errors: ErrMalformed where pion/sdp refuses the body (or it is empty), ErrNoAudio
// where no audio m-line has a port.
func ReadAudio(body []byte) (*Audio, error) {
	d, err := read(body, false)
	if err != nil {
		return nil, err
	}
	for _, m := range d.media {
		if m.kind == "audio" && m.port != 0 {
			return &Audio{Profile: m.proto, WebRTC: m.class() == profileDTLS,
				Direction: m.dir, Formats: m.payloads, Extensions: m.extmaps}, nil
		}
	}
	return nil, fmt.Errorf("%w: %d m-lines, none is audio with a port", ErrNoAudio, len(d.media))
}

// Opus returns the m-line's first Opus format (PayloadFormat.IsOpus).
func (a *Audio) Opus() (PayloadFormat, bool) {
	for _, p := range a.Formats {
		if p.IsOpus() {
			return p, true
		}
	}
	return PayloadFormat{}, false
}

// ExtensionID returns the id the m-line gives the header extension uri, or 0 when it has none.
func (a *Audio) ExtensionID(uri string) uint8 {
	for _, e := range a.Extensions {
		if e.URI == uri {
			return e.ID
		}
	}
	return 0
}

// parseExtension reads an a=extmap value, "1 urn:..." or "1/sendrecv urn:... attributes".
func parseExtension(v string) (Extension, bool) {
	f := strings.Fields(v)
	if len(f) < 2 {
		return Extension{}, false
	}
	idText, _, _ := strings.Cut(f[0], "/")
	id, err := strconv.ParseUint(idText, 10, 8)
	if err != nil || id == 0 {
		return Extension{}, false
	}
	return Extension{ID: uint8(id), URI: f[1]}, true
}
