package sipws

import (
	"bytes"
	"fmt"
	"mime"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// allowed is the Allow header of confd's answers (RFC 3261 section 20.5).
const allowed = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REGISTER"

// known are the methods RFC 3261 and its extensions define that confd does not implement: a
// request with one of them gets 405 with Allow, any other method 501 (RFC 3261 section 8.2.1).
var known = map[string]bool{"SUBSCRIBE": true, "NOTIFY": true, "REFER": true, "MESSAGE": true,
	"PRACK": true, "UPDATE": true, "PUBLISH": true}

// supportedTags are the Require option tags confd implements: none (no 100rel, no timer).
var supportedTags = map[string]bool{}

// checkRequest applies what RFC 3261 asks of a UAS before it looks at a request and sipgo's
// parser lets through (docs/REAL-PEERS.md): it returns 0 when req is fine, else the status, the
// reason and any extra header of the answer.
func checkRequest(req *sip.Request) (status int, reason string, extra sip.Header) {
	if req.SipVersion != "SIP/2.0" {
		return 505, "Version Not Supported", nil
	}
	if req.Via() == nil || req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil {
		return 400, "Bad Request (missing Via, From, To, Call-ID or CSeq)", nil
	}
	if !strings.EqualFold(req.CSeq().MethodName.String(), req.Method.String()) {
		return 400, "Bad Request (CSeq method does not match the request)", nil
	}
	if s := strings.ToLower(req.Recipient.Scheme); s != "sip" && s != "sips" {
		return 416, "Unsupported URI Scheme", nil
	}
	if req.Method != sip.ACK && req.Method != sip.CANCEL {
		var unknown []string
		for _, h := range req.GetHeaders("Require") {
			for tag := range strings.SplitSeq(h.Value(), ",") {
				if tag = strings.TrimSpace(tag); tag != "" && !supportedTags[strings.ToLower(tag)] {
					unknown = append(unknown, tag)
				}
			}
		}
		if len(unknown) > 0 {
			return 420, "Bad Extension", sip.NewHeader("Unsupported", strings.Join(unknown, ", "))
		}
	}
	if req.Method == sip.INVITE && len(req.Body()) > 0 {
		ct := ""
		if h := req.ContentType(); h != nil {
			ct = h.Value()
		}
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/sdp" {
			return 415, "Unsupported Media Type", sip.NewHeader("Accept", "application/sdp")
		}
	}
	return 0, "", nil
}

// newResponse builds the answer to req (RFC 3261 section 8.2.6) with confd's Server header.
func newResponse(req *sip.Request, status int, reason string, hdrs ...sip.Header) *sip.Response {
	res := sip.NewResponseFromRequest(req, status, reason, nil)
	res.SipVersion = "SIP/2.0" // not the request's: a 505 answers another version in confd's own
	for _, h := range hdrs {
		if h != nil {
			res.AppendHeader(h)
		}
	}
	if status == 405 || status == 501 {
		res.AppendHeader(sip.NewHeader("Allow", allowed))
	}
	res.AppendHeader(sip.NewHeader("Server", "confd"))
	return res
}

// warning is a Warning header (RFC 3261 section 20.43) with confd's agent name: code 399 is
// "miscellaneous", and text says what was wrong.
func warning(code int, text string) sip.Header {
	return sip.NewHeader("Warning", fmt.Sprintf("%d confd %q", code, strings.ReplaceAll(text, `"`, "'")))
}

// badRequest answers a message sipgo cannot parse: a 400 that copies whichever of Via, From,
// To, Call-ID and CSeq can be found and read in the raw text, so that the client can match it (over a
// WebSocket it always reaches the sender, RFC 7118 section 5). A message that looks like a
// response gets nothing (RFC 3261 section 18.1.2: responses are never answered).
func badRequest(raw []byte, why string) []byte {
	if bytes.HasPrefix(raw, []byte("SIP/")) {
		return nil
	}
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	var b strings.Builder
	b.WriteString("SIP/2.0 400 Bad Request (" + strings.Map(printable, why) + ")\r\n")
	seen := map[string]bool{}
	for line := range strings.SplitSeq(string(head), "\n") {
		line = strings.TrimRight(line, "\r")
		name, _, ok := strings.Cut(line, ":")
		if !ok || line == "" || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		n := strings.ToLower(strings.TrimSpace(name))
		switch n {
		case "v":
			n = "via"
		case "f":
			n = "from"
		case "t":
			n = "to"
		case "i":
			n = "call-id"
		}
		switch n {
		case "via", "from", "to", "call-id", "cseq":
			if n != "via" && seen[n] {
				continue
			}
			line = strings.Map(printable, line) + "\r\n"
			if _, err := sip.ParseMessage([]byte("SIP/2.0 400 Bad Request\r\n" + line + "\r\n")); err != nil {
				continue // a header sipgo cannot read would make the whole answer unreadable
			}
			seen[n] = true
			b.WriteString(line)
		}
	}
	b.WriteString("Server: confd\r\nContent-Length: 0\r\n\r\n")
	return []byte(b.String())
}

// printable keeps a reason phrase or copied header on one line of printable text.
func printable(r rune) rune {
	if r < 0x20 || r == 0x7f {
		return ' '
	}
	return r
}
