package sipua

import (
	"bytes"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Validator applies the rules of RFC 3261 and the torture tests of RFC 4475 that sipgo
// v1.7.2's parser accepts as valid or drops without a word (docs/REAL-PEERS.md "The network
// and the SIP stack"). Check answers, for a request:
//
//   - 400 Bad Request for what does not parse (RFC 4475 section 3.1.2) or what sipgo parses
//     but cannot write back readably (an answer copies those headers), a CSeq method that is
//     not the request's (3.1.2.17, 3.1.2.18), a missing mandatory header (3.3.1), a header
//     that must appear once appearing twice (3.3.8) or a doubled Content-Length (3.3.9), a
//     Request-URI with escaped headers (3.1.2.11), a malformed Date (3.1.2.12);
//   - 416 Unsupported URI Scheme for a Request-URI that is not sip: or sips: (3.3.2, 3.3.3;
//     confd names rooms by the user part of a SIP URI and reads no other scheme);
//   - 420 Bad Extension with an Unsupported header listing each Require option tag not among
//     OptionTags (3.3.5; a UAS ignores Proxy-Require, RFC 3261 section 8.2.2.3);
//   - 415 Unsupported Media Type with Accept for an INVITE, UPDATE or ACK body that is not
//     SDP (3.3.6), and 406 Not Acceptable for an INVITE whose Accept excludes SDP (3.3.15);
//   - 505 Version Not Supported for a version other than SIP/2.0 (3.1.2.16).
//
// It is safe for concurrent use.
type Validator struct {
	// OptionTags are the Require option tags the leg implements (RFC 3261 section 8.2.2.3),
	// lower case: sipleg has "timer" (RFC 4028), sipws none.
	OptionTags []string

	parsers sync.Pool
}

// NewValidator returns a Validator for a leg that implements the given option tags.
func NewValidator(optionTags ...string) *Validator {
	return &Validator{OptionTags: optionTags, parsers: sync.Pool{New: func() any { return sip.NewParser() }}}
}

// Check parses raw, one SIP message, and checks it when it is a request. It returns the
// message (nil for keep-alive CRLFs, and for a refused request) and, for a request that must
// be refused, the Refusal to answer it with (Refusal.Answer). A response is returned as it is:
// responses are never answered (RFC 3261 section 18.1.2).
func (v *Validator) Check(raw []byte) (sip.Message, *Refusal) {
	if len(bytes.Trim(raw, "\r\n")) == 0 {
		return nil, nil
	}
	if bareLineEnd(raw) {
		// sipgo ends a line at a bare LF only inside a value, so "Call-ID: a\nCall-ID: b" was
		// one Call-ID carrying a line break into every answer and in-dialog request that
		// copies it, and two headers to a peer or proxy that ends lines at LF; and the
		// doubled-header rule (counted at CRLFs) missed it (red team, issue 13). RFC 3261
		// section 7 ends every line of a message's head with CRLF.
		if bytes.HasPrefix(raw, []byte("SIP/")) {
			return nil, &Refusal{}
		}
		return nil, &Refusal{Status: 400, Reason: "Bad Request (a line of the head ends without CRLF)"}
	}
	p := v.parsers.Get().(*sip.Parser)
	m, err := p.ParseSIP(raw)
	v.parsers.Put(p)
	if err != nil {
		if bytes.HasPrefix(raw, []byte("SIP/")) {
			return nil, &Refusal{} // a broken response: nothing to answer
		}
		if uriSchemeUnsupported(raw) {
			return nil, &Refusal{Status: 416, Reason: "Unsupported URI Scheme"}
		}
		return nil, &Refusal{Status: 400, Reason: "Bad Request (" + err.Error() + ")"}
	}
	req, ok := m.(*sip.Request)
	if !ok {
		return m, nil
	}
	if _, err := sip.ParseMessage([]byte(req.String())); err != nil {
		// sipgo read it but cannot write it back readably (a Via such as "0// "): what an
		// answer copies must survive the round trip.
		return nil, &Refusal{Status: 400, Reason: "Bad Request (" + err.Error() + ")"}
	}
	if r := v.CheckRequest(req, raw); r != nil {
		return nil, r
	}
	return req, nil
}

// CheckRequest applies the rules sipgo's parser does not to req, parsed from raw. It returns
// nil when req is fine.
func (v *Validator) CheckRequest(req *sip.Request, raw []byte) *Refusal {
	if req.SipVersion != "SIP/2.0" {
		return &Refusal{Status: 505, Reason: "Version Not Supported"}
	}
	counts := HeaderCounts(raw)
	for _, h := range []string{"via", "from", "to", "call-id", "cseq"} {
		if counts[h] == 0 {
			return &Refusal{Status: 400, Reason: "Bad Request (missing " + h + ")"}
		}
	}
	for _, h := range []string{"from", "to", "call-id", "cseq", "max-forwards", "content-length", "content-type"} {
		if counts[h] > 1 {
			return &Refusal{Status: 400, Reason: "Bad Request (more than one " + h + ")"}
		}
	}
	if cseq := req.CSeq(); cseq == nil || !strings.EqualFold(cseq.MethodName.String(), req.Method.String()) {
		return &Refusal{Status: 400, Reason: "Bad Request (CSeq method does not match the request)"}
	}
	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips":
	default:
		return &Refusal{Status: 416, Reason: "Unsupported URI Scheme"}
	}
	if req.Recipient.Headers != nil && req.Recipient.Headers.Length() > 0 {
		return &Refusal{Status: 400, Reason: "Bad Request (headers in the Request-URI)"}
	}
	if d := req.GetHeader("Date"); d != nil {
		if _, err := time.Parse(http.TimeFormat, d.Value()); err != nil {
			return &Refusal{Status: 400, Reason: "Bad Request (malformed Date)"}
		}
	}
	if r := v.checkRequire(req); r != nil {
		return r
	}
	return checkBody(req)
}

// checkRequire refuses a request that requires an option tag the leg does not implement (RFC
// 3261 section 8.2.2.3); ACK and CANCEL are exempt.
func (v *Validator) checkRequire(req *sip.Request) *Refusal {
	if req.Method == sip.ACK || req.Method == sip.CANCEL {
		return nil
	}
	var unsupported []string
	for _, h := range req.GetHeaders("Require") {
		for tag := range strings.SplitSeq(h.Value(), ",") {
			if tag = strings.TrimSpace(tag); tag != "" && !v.supports(tag) {
				unsupported = append(unsupported, tag)
			}
		}
	}
	if len(unsupported) == 0 {
		return nil
	}
	return &Refusal{Status: 420, Reason: "Bad Extension", Headers: []sip.Header{sip.NewHeader("Unsupported", strings.Join(unsupported, ", "))}}
}

func (v *Validator) supports(tag string) bool {
	for _, t := range v.OptionTags {
		if strings.EqualFold(t, tag) {
			return true
		}
	}
	return false
}

// checkBody refuses an INVITE, UPDATE or ACK whose body is not SDP (415) and an INVITE whose
// Accept excludes SDP (406): confd reads and writes no other session description.
func checkBody(req *sip.Request) *Refusal {
	method := req.Method
	if method != sip.INVITE && method != sip.UPDATE && method != sip.ACK {
		return nil
	}
	accept := []sip.Header{sip.NewHeader("Accept", "application/sdp")}
	if len(req.Body()) > 0 {
		ct := ""
		if h := req.ContentType(); h != nil {
			ct = h.Value()
		}
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/sdp" {
			return &Refusal{Status: 415, Reason: "Unsupported Media Type", Headers: accept}
		}
	}
	if method == sip.INVITE {
		if accepts := req.GetHeaders("Accept"); len(accepts) > 0 && !acceptsSDP(accepts) {
			return &Refusal{Status: 406, Reason: "Not Acceptable", Headers: accept}
		}
	}
	return nil
}

func acceptsSDP(hs []sip.Header) bool {
	for _, h := range hs {
		for t := range strings.SplitSeq(h.Value(), ",") {
			mt, _, _ := strings.Cut(strings.TrimSpace(t), ";")
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case "application/sdp", "application/*", "*/*", "":
				return true
			}
		}
	}
	return false
}

// bareLineEnd reports whether the head of raw (up to its first empty line) has a CR or an LF
// that is not part of a CRLF.
func bareLineEnd(raw []byte) bool {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	return bytes.Count(head, []byte("\n")) != bytes.Count(head, []byte("\r\n")) ||
		bytes.Count(head, []byte("\r")) != bytes.Count(head, []byte("\r\n"))
}

// compactNames maps RFC 3261 section 7.3.3 compact header names to the full ones.
var compactNames = map[string]string{"v": "via", "f": "from", "t": "to", "i": "call-id", "l": "content-length",
	"c": "content-type", "m": "contact", "e": "content-encoding", "k": "supported", "s": "subject"}

// HeaderCounts counts the header fields of a raw message by lower-case full name, unfolding
// nothing: a continuation line starts with white space and is not a field.
func HeaderCounts(raw []byte) map[string]int {
	counts := map[string]int{}
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\r\n")
	for _, line := range lines[1:] {
		if name, ok := fieldName(line); ok {
			counts[name]++
		}
	}
	return counts
}

// fieldName is the lower-case full name of a header line; false for a continuation line or a
// line without a colon.
func fieldName(line string) (string, bool) {
	if line == "" || line[0] <= ' ' { // a continuation, or a control character: no field's start
		return "", false
	}
	name, _, ok := strings.Cut(line, ":")
	if !ok {
		return "", false
	}
	name = strings.ToLower(strings.TrimSpace(name))
	if full, ok := compactNames[name]; ok {
		name = full
	}
	return name, true
}

// uriSchemeUnsupported reports whether an unparsable request's Request-URI has a scheme other
// than sip or sips (RFC 4475 section 3.3.3: "soap.beep://...") and is otherwise shaped like a
// URI (not "<sip:...>", RFC 4475 section 3.1.2.7).
func uriSchemeUnsupported(raw []byte) bool {
	line, _, _ := bytes.Cut(raw, []byte("\r\n"))
	parts := strings.Split(string(line), " ")
	if len(parts) != 3 {
		return false
	}
	scheme, _, ok := strings.Cut(parts[1], ":")
	if !ok || scheme == "" {
		return false
	}
	for _, r := range scheme {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.') {
			return false
		}
	}
	switch strings.ToLower(scheme) {
	case "sip", "sips":
		return false
	}
	return true
}
