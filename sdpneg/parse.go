package sdpneg

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pion/sdp/v3"

	"confd/codec"
)

// description is an SDP body read for negotiation.
type description struct {
	sd    sdp.SessionDescription
	media []*media
}

// media is one m-line read for negotiation.
type media struct {
	index    int
	kind     string // "audio", "video", "image", ...
	proto    string // "RTP/AVP", ...
	port     int
	formats  []string
	payloads []PayloadFormat // the numeric formats, in the m-line's order
	conn     string          // connection address text (media level, else session level)
	addr     netip.Addr      // conn when it is an IP address
	ptime    time.Duration
	maxptime time.Duration
	dir      Direction // explicit at media or session level, else SendRecv
	rtcpPort int
	rtcpAddr netip.Addr
	rtcpMux  bool
	dtls     bool // a=fingerprint at media or session level
	extmaps  []Extension
}

// profileClass sorts an m-line's transport into what negotiation does with it.
type profileClass int

const (
	profilePlain profileClass = iota // RTP/AVP, RTP/AVPF: answered
	profileSDES                      // RTP/SAVP, RTP/SAVPF keyed in SDP: refused
	profileDTLS                      // DTLS-SRTP: a WebRTC offer
	profileOther                     // anything else
)

// class is the one rule for what is WebRTC (Audio.WebRTC, ErrWebRTCOffer): a DTLS-SRTP profile,
// UDP/TLS/RTP/SAVP(F) of RFC 5764, TCP/DTLS/RTP/SAVP(F) of RFC 7850 or the TCP/TLS/RTP/SAVPF
// that browsers read alike, or RTP/SAVP(F) with an a=fingerprint, which older WebRTC stacks
// write and which a JSEP implementation accepts as DTLS-SRTP (RFC 8829 section 5.1.2). pion
// accepts all of them: it reads no profile, only the fingerprint and the ICE credentials.
// RTP/AVP(F) stays plain RTP even beside a fingerprint: the SIP device that writes it is
// answered in kind.
func (m *media) class() profileClass {
	p := strings.ToUpper(m.proto)
	switch {
	case p == "RTP/AVP" || p == "RTP/AVPF":
		return profilePlain
	case strings.Contains(p, "TLS/RTP/SAVP"), (p == "RTP/SAVP" || p == "RTP/SAVPF") && m.dtls:
		return profileDTLS
	case p == "RTP/SAVP" || p == "RTP/SAVPF":
		return profileSDES
	}
	return profileOther
}

// staticPayloads are the RFC 3551 static payload types that an offer may list without rtpmap.
var staticPayloads = map[uint8]PayloadFormat{
	0:  {Name: "PCMU", ClockRate: 8000},
	3:  {Name: "GSM", ClockRate: 8000},
	4:  {Name: "G723", ClockRate: 8000},
	8:  {Name: "PCMA", ClockRate: 8000},
	9:  {Name: "G722", ClockRate: 8000},
	13: {Name: "CN", ClockRate: 8000},
	18: {Name: "G729", ClockRate: 8000},
}

// pionMedia and pionProtos are the m-line media and transport words pion/sdp accepts.
var (
	pionMedia  = []string{"audio", "video", "text", "application", "message"}
	pionProtos = []string{"UDP", "RTP", "AVP", "SAVP", "SAVPF", "TLS", "DTLS", "SCTP", "AVPF", "TCP",
		"MSRP", "BFCP", "UDT", "IX", "MRCPv2", "FEC"}
)

// mline is the first three fields of an m-line as written.
type mline struct{ kind, proto string }

// tidy prepares a body for pion/sdp, which is stricter than the peers confd meets: it drops
// empty lines and trailing blanks, ends lines with CRLF, puts the lines of each section in the
// order of RFC 4566 section 5 (some devices write c= after t=, or b= before c=), supplies a
// missing s= line, and rewrites an m-line whose media or transport pion does not know (such as
// T.38's "m=image 0 udptl t38") into a placeholder, so that the offer can still be answered
// with that m-line rejected. It returns each m-line's media and transport as written.
func tidy(body []byte) (string, []mline) {
	var sections [][]string // the session section, then one per m-line
	var mlines []mline
	sections = append(sections, nil)
	for raw := range bytes.SplitSeq(body, []byte("\n")) {
		line := string(bytes.TrimRight(raw, " \t\r"))
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "m=") {
			f := strings.Fields(line[2:])
			if len(f) >= 3 {
				mlines = append(mlines, mline{kind: f[0], proto: f[2]})
				if !pionKnows(f[0], f[2]) {
					f[0], f[2] = "application", "UDP"
					line = "m=" + strings.Join(f, " ")
				}
			} else {
				mlines = append(mlines, mline{})
			}
			sections = append(sections, nil)
		}
		sections[len(sections)-1] = append(sections[len(sections)-1], line)
	}
	session := sections[0]
	hasS := false
	for _, l := range session {
		hasS = hasS || strings.HasPrefix(l, "s=")
	}
	if !hasS {
		session = append(session, "s=-")
	}
	var b strings.Builder
	for i, sec := range sections {
		order := sessionOrder
		if i > 0 {
			order = mediaOrder
		}
		if i == 0 {
			sec = session
		}
		slices.SortStableFunc(sec, func(a, b string) int { return lineRank(a, order) - lineRank(b, order) })
		for _, l := range sec {
			b.WriteString(l)
			b.WriteString("\r\n")
		}
	}
	return b.String(), mlines
}

// The order of line types within a section (RFC 4566 section 5); "t" and "r" share a rank so
// that each r= stays after its t=.
const (
	sessionOrder = "vosiuepcbtzka"
	mediaOrder   = "micbka"
)

// lineRank is the position of a line's type letter in order; unknown letters go last, where
// pion rejects them.
func lineRank(line, order string) int {
	c := line[0]
	if c == 'r' {
		c = 't'
	}
	if i := strings.IndexByte(order, c); i >= 0 {
		return i
	}
	return len(order)
}

func pionKnows(kind, proto string) bool {
	if !contains(pionMedia, kind) {
		return false
	}
	for p := range strings.SplitSeq(proto, "/") {
		if !contains(pionProtos, p) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// parse reads an SDP body for negotiation, repaired by tidy. Only syntax that pion/sdp rejects,
// and m-lines it cannot make sense of, are errors (ErrMalformed); unreadable attributes are
// skipped, as RFC 4566 section 5.13 asks of unknown ones.
func parse(body []byte) (*description, error) { return read(body, true) }

// read is parse, with tidy's repairs when repair is set; without them pion/sdp reads the body
// as written, as the WebRTC stack will.
func read(body []byte, repair bool) (*description, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrMalformed)
	}
	text, mlines := string(body), []mline(nil)
	if repair {
		text, mlines = tidy(body)
	}
	d := &description{}
	if err := d.sd.UnmarshalString(text); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if !repair {
		for _, md := range d.sd.MediaDescriptions {
			mlines = append(mlines, mline{kind: md.MediaName.Media, proto: strings.Join(md.MediaName.Protos, "/")})
		}
	}
	if len(mlines) != len(d.sd.MediaDescriptions) {
		return nil, fmt.Errorf("%w: unreadable m-line", ErrMalformed)
	}
	sessDir, sessDirSet := SendRecv, false
	sessDTLS := false
	for _, a := range d.sd.Attributes {
		if dir, ok := parseDirection(a.Key); ok && !sessDirSet {
			sessDir, sessDirSet = dir, true
		}
		if a.Key == "fingerprint" {
			sessDTLS = true
		}
	}
	for i, md := range d.sd.MediaDescriptions {
		m := &media{
			index:   i,
			kind:    mlines[i].kind,
			proto:   mlines[i].proto,
			port:    md.MediaName.Port.Value,
			formats: md.MediaName.Formats,
			dir:     sessDir,
			dtls:    sessDTLS,
		}
		ci := md.ConnectionInformation
		if ci == nil {
			ci = d.sd.ConnectionInformation
		}
		if ci != nil && ci.Address != nil {
			m.conn, _, _ = strings.Cut(ci.Address.Address, "/") // "224.2.1.1/127" has a TTL
			if a, err := netip.ParseAddr(m.conn); err == nil {
				m.addr = a.Unmap()
			}
		}
		m.readAttributes(md.Attributes)
		d.media = append(d.media, m)
	}
	return d, nil
}

// readAttributes fills m from its media-level attributes.
func (m *media) readAttributes(attrs []sdp.Attribute) {
	byPT := map[uint8]*PayloadFormat{}
	for _, f := range m.formats {
		n, err := strconv.ParseUint(f, 10, 8)
		if err != nil || n > 127 {
			continue
		}
		p := staticPayloads[uint8(n)]
		p.Type = uint8(n)
		m.payloads = append(m.payloads, p)
	}
	for i := range m.payloads {
		byPT[m.payloads[i].Type] = &m.payloads[i]
	}
	dirSet := false
	for _, a := range attrs {
		switch a.Key {
		case "rtpmap":
			pt, rest, ok := payloadOf(a.Value, byPT)
			if !ok {
				continue
			}
			parts := strings.Split(strings.TrimSpace(rest), "/")
			if len(parts) < 2 {
				continue
			}
			clock, err := strconv.Atoi(parts[1])
			if err != nil || clock <= 0 {
				continue
			}
			pt.Name, pt.ClockRate, pt.Channels = parts[0], clock, 0
			if len(parts) > 2 {
				if ch, err := strconv.Atoi(parts[2]); err == nil && ch > 0 {
					pt.Channels = ch
				}
			}
		case "fmtp":
			if pt, rest, ok := payloadOf(a.Value, byPT); ok {
				pt.Fmtp = strings.TrimSpace(rest)
			}
		case "ptime":
			m.ptime = millis(a.Value)
		case "maxptime":
			m.maxptime = millis(a.Value)
		case "rtcp":
			m.readRTCP(a.Value)
		case "rtcp-mux":
			m.rtcpMux = true
		case "fingerprint":
			m.dtls = true
		case "extmap":
			if e, ok := parseExtension(a.Value); ok {
				m.extmaps = append(m.extmaps, e)
			}
		default:
			if dir, ok := parseDirection(a.Key); ok && !dirSet {
				m.dir, dirSet = dir, true
			}
		}
	}
}

// payloadOf splits "96 opus/48000/2" into the m-line's payload 96 and the rest.
func payloadOf(value string, byPT map[uint8]*PayloadFormat) (*PayloadFormat, string, bool) {
	num, rest, _ := strings.Cut(strings.TrimSpace(value), " ")
	n, err := strconv.ParseUint(num, 10, 8)
	if err != nil {
		return nil, "", false
	}
	p, ok := byPT[uint8(n)]
	return p, rest, ok
}

// millis reads a ptime or maxptime value in milliseconds ("20", "20.0"); 0 if unreadable or out
// of range.
func millis(v string) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || !(f > 0 && f <= 10000) {
		return 0
	}
	return time.Duration(f * float64(time.Millisecond)).Round(time.Millisecond / 4)
}

// readRTCP reads "a=rtcp:53020" or "a=rtcp:53020 IN IP4 126.16.64.4" (RFC 3605 section 2.1).
func (m *media) readRTCP(v string) {
	f := strings.Fields(v)
	if len(f) == 0 {
		return
	}
	port, err := strconv.Atoi(f[0])
	if err != nil || port < 1 || port > 65535 {
		return
	}
	m.rtcpPort = port
	if len(f) == 4 {
		if a, err := netip.ParseAddr(f[3]); err == nil {
			m.rtcpAddr = a.Unmap()
		}
	}
}

// codecOf returns the confd codec a payload carries, if any.
func (p PayloadFormat) codecOf() (codec.Codec, bool) {
	if p.Name == "" {
		return 0, false
	}
	c, err := codec.ParseCodec(p.Name, p.ClockRate)
	return c, err == nil
}

// describe names the payload for error messages, such as "G729/8000" or "pt 97".
func (p PayloadFormat) describe() string {
	if p.Name == "" {
		return fmt.Sprintf("pt %d", p.Type)
	}
	return fmt.Sprintf("%s/%d", p.Name, p.ClockRate)
}

// held reports whether the connection address says "send nothing here": 0.0.0.0 or ::
// (RFC 3264 section 8.4).
func (m *media) held() bool { return m.addr.IsValid() && m.addr.IsUnspecified() }

// remoteDirection is the direction of the side that wrote m, with RFC 2543 hold applied.
func (m *media) remoteDirection() Direction {
	if m.held() {
		return m.dir | noRecv
	}
	return m.dir
}

// fillRemote fills the parts of r that come from the remote's m-line alone.
func (r *Result) fillRemote(d *description, m *media, muxAllowed bool) error {
	if !m.addr.IsValid() {
		if m.conn == "" {
			return fmt.Errorf("%w: no c= line for m-line %d", ErrAddress, m.index)
		}
		return fmt.Errorf("%w: %q is not an IP address", ErrAddress, m.conn)
	}
	r.MediaIndex = m.index
	r.Profile = m.proto
	r.Remote = netip.AddrPortFrom(m.addr, uint16(m.port))
	r.RTCPMux = m.rtcpMux && muxAllowed
	switch {
	case r.RTCPMux:
		r.RemoteRTCP = r.Remote
	case m.rtcpPort != 0 && m.rtcpAddr.IsValid():
		r.RemoteRTCP = netip.AddrPortFrom(m.rtcpAddr, uint16(m.rtcpPort))
	case m.rtcpPort != 0:
		r.RemoteRTCP = netip.AddrPortFrom(m.addr, uint16(m.rtcpPort))
	case m.port < 65535:
		r.RemoteRTCP = netip.AddrPortFrom(m.addr, uint16(m.port+1))
	default:
		r.RemoteRTCP = r.Remote
	}
	r.PacketTime, r.MaxPacketTime = m.ptime, m.maxptime
	r.RemoteDirection = m.remoteDirection()
	r.RemoteSessionID = d.sd.Origin.SessionID
	r.RemoteSessionVersion = d.sd.Origin.SessionVersion
	return nil
}
