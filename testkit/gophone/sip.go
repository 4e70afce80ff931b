package gophone

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"confd/codec"
)

// sipMessage is one parsed SIP message (RFC 3261 section 7): a request or a response, its
// headers by lower-case full name (compact forms expanded), and its body.
type sipMessage struct {
	method string // a request's method; "" for a response
	uri    string // a request's Request-URI
	status int    // a response's status code; 0 for a request
	header map[string][]string
	body   []byte
}

// compactForms maps RFC 3261 section 7.3.3's one-letter header names to the full ones.
var compactForms = map[string]string{
	"i": "call-id", "m": "contact", "e": "content-encoding", "l": "content-length",
	"c": "content-type", "f": "from", "s": "subject", "k": "supported", "t": "to", "v": "via",
}

// parseSIP parses a datagram; ok is false for anything that is not a SIP message.
func parseSIP(b []byte) (m sipMessage, ok bool) {
	head, body, _ := bytes.Cut(b, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\r\n")
	first := strings.Fields(lines[0])
	if len(first) < 3 {
		return m, false
	}
	if first[0] == "SIP/2.0" {
		code, err := strconv.Atoi(first[1])
		if err != nil {
			return m, false
		}
		m.status = code
	} else if first[2] == "SIP/2.0" {
		m.method, m.uri = first[0], first[1]
	} else {
		return m, false
	}
	m.header = make(map[string][]string)
	for _, l := range lines[1:] {
		name, value, found := strings.Cut(l, ":")
		if !found {
			continue
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if full, isCompact := compactForms[name]; isCompact {
			name = full
		}
		m.header[name] = append(m.header[name], strings.TrimSpace(value))
	}
	// The body outlives the read buffer it came in: a dialog keeps its answer.
	m.body = bytes.Clone(body)
	return m, true
}

// get returns the first value of header name (lower case), or "".
func (m sipMessage) get(name string) string {
	if v := m.header[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// cseqMethod returns the method named in the CSeq header.
func (m sipMessage) cseqMethod() string {
	f := strings.Fields(m.get("cseq"))
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

// headerParam returns the value of parameter name (";tag=x") of a header value.
func headerParam(value, name string) string {
	if i := strings.IndexByte(value, '>'); i >= 0 {
		value = value[i+1:] // the URI's own parameters are not the header's
	}
	for _, p := range strings.Split(value, ";")[1:] {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// contactURI returns the URI inside a Contact value's angle brackets, or the value itself.
func contactURI(value string) string {
	if i := strings.IndexByte(value, '<'); i >= 0 {
		if j := strings.IndexByte(value[i:], '>'); j > 0 {
			return value[i+1 : i+j]
		}
	}
	uri, _, _ := strings.Cut(value, ";")
	return strings.TrimSpace(uri)
}

// response builds the response with status and reason to request req, copying the headers a
// response copies (RFC 3261 section 8.2.6.2: Via, From, To, Call-ID, CSeq); toTag is added to
// To when it has none.
func response(req sipMessage, status int, reason, toTag string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", status, reason)
	for _, v := range req.header["via"] {
		fmt.Fprintf(&b, "Via: %s\r\n", v)
	}
	to := req.get("to")
	if headerParam(to, "tag") == "" && toTag != "" {
		to += ";tag=" + toTag
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n",
		req.get("from"), to, req.get("call-id"), req.get("cseq"))
	return []byte(b.String())
}

// PayloadType is the RTP payload type Phone offers for c: the static one of RFC 3551, or 111,
// the dynamic one most phones and browsers use for Opus.
func PayloadType(c codec.Codec) uint8 {
	if pt, static := c.StaticPayloadType(); static {
		return pt
	}
	return 111
}

// Offer is Phone's offer (RFC 3264 section 5, RFC 4566): one audio stream on rtpPort with
// only cfg's codec, 20 ms packets, RTCP multiplexed on the RTP port (RFC 5761) so that one
// socket sees everything confd sends.
func Offer(sessionID int64, rtpPort int, c codec.Codec) []byte {
	pt := PayloadType(c)
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=- %d 1 IN IP4 127.0.0.1\r\ns=confd phones\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n", sessionID)
	fmt.Fprintf(&b, "m=audio %d RTP/AVP %d\r\n", rtpPort, pt)
	fmt.Fprintf(&b, "a=rtpmap:%d %s/%d", pt, c, c.ClockRate())
	if c == codec.Opus {
		fmt.Fprintf(&b, "/2\r\na=fmtp:%d minptime=20;useinbandfec=1", pt)
	}
	b.WriteString("\r\na=ptime:20\r\na=rtcp-mux\r\na=sendrecv\r\n")
	return []byte(b.String())
}

// AnswerMedia reads the audio address and payload types of an SDP answer (a media-level c=
// line follows the session's and overrides it).
func AnswerMedia(body []byte) (addr netip.AddrPort, pts []uint8, err error) {
	var ip netip.Addr
	port := 0
	for _, l := range strings.Split(string(body), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "c=IN IP4 "):
			if a, perr := netip.ParseAddr(strings.TrimPrefix(l, "c=IN IP4 ")); perr == nil {
				ip = a
			}
		case strings.HasPrefix(l, "m=audio "):
			f := strings.Fields(l)
			if len(f) < 4 {
				return addr, nil, fmt.Errorf("%w: %q", ErrBadAnswer, l)
			}
			port, _ = strconv.Atoi(f[1])
			for _, s := range f[3:] {
				if n, perr := strconv.Atoi(s); perr == nil && n >= 0 && n < 128 {
					pts = append(pts, uint8(n))
				}
			}
		}
	}
	if !ip.IsValid() || port <= 0 || port > 65535 {
		return addr, nil, fmt.Errorf("%w: no audio address:\n%s", ErrBadAnswer, body)
	}
	if ip.IsUnspecified() {
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	return netip.AddrPortFrom(ip, uint16(port)), pts, nil
}
