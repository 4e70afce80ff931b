package sipua

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Refusal is the final failure answer to a request (RFC 3261 section 21.4 to 21.6): its
// status, reason phrase and any headers the answer must carry (Retry-After, Unsupported,
// Accept, a challenge, a Warning). Status 0 means the request gets no answer at all.
type Refusal struct {
	Status  int
	Reason  string
	Headers []sip.Header
}

// Error makes a Refusal an error: the status and reason.
func (r *Refusal) Error() string { return fmt.Sprintf("%d %s", r.Status, r.Reason) }

// Answer is the stateless answer to raw, the request r refuses (TextResponse): nil when there is
// none to send, for a Status 0, an ACK (never answered, RFC 3261 section 17.1.1.1) or a message
// without a Via to address.
func (r *Refusal) Answer(raw []byte) []byte {
	if r.Status == 0 || bytes.HasPrefix(raw, []byte("ACK ")) {
		return nil
	}
	return TextResponse(raw, r.Status, r.Reason, r.Headers...)
}

// TextResponse writes a response to a raw request by copying its Via, From, To, Call-ID and
// CSeq lines (RFC 3261 section 8.2.6.2), which works even when the request did not parse:
// continued lines are joined, control characters blanked, and a line sipgo could not read in
// a response left out, so that the answer itself is readable (a Via such as "SIP/2.0/UDP
// 192.0.2.15;;,;,,", RFC 4475 section 3.1.2.1, is not copied, and the answer goes back to the
// source). It returns nil for a request without any Via: nothing can be answered (RFC 3261
// section 18.2.2).
func TextResponse(raw []byte, status int, reason string, hdrs ...sip.Header) []byte {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\r\n")
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", status, Reason(reason))
	found := map[string]bool{}
	hasVia := false
	for i := 1; i < len(lines); i++ {
		n, ok := fieldName(lines[i])
		if !ok {
			continue
		}
		line := lines[i]
		for i+1 < len(lines) && lines[i+1] != "" && (lines[i+1][0] == ' ' || lines[i+1][0] == '\t') {
			i++
			line += " " + strings.TrimSpace(lines[i])
		}
		switch n {
		case "via", "from", "to", "call-id", "cseq":
			hasVia = hasVia || n == "via"
			if n != "via" && found[n] {
				continue
			}
			line = strings.Map(Printable, line) + "\r\n"
			if _, err := sip.ParseMessage([]byte("SIP/2.0 400 Bad Request\r\n" + line + "\r\n")); err != nil {
				continue // a header sipgo cannot read would make the whole answer unreadable
			}
			found[n] = true
			b.WriteString(line)
		}
	}
	if !hasVia {
		return nil
	}
	for _, h := range hdrs {
		if h != nil {
			b.WriteString(h.Name() + ": " + strings.Map(Printable, h.Value()) + "\r\n")
		}
	}
	b.WriteString("Server: confd\r\nContent-Length: 0\r\n\r\n")
	return []byte(b.String())
}

// Response builds the answer to req (RFC 3261 section 8.2.6) with its reason phrase made
// printable (Reason), the headers that are not nil, and confd's Server header: every answer
// either SIP leg builds from a request goes through here or TextResponse, so that an error's
// text put into a reason phrase can never break the status line or add a header.
func Response(req *sip.Request, status int, reason string, hdrs ...sip.Header) *sip.Response {
	res := sip.NewResponseFromRequest(req, status, Reason(reason), nil)
	for _, h := range hdrs {
		if h != nil {
			res.AppendHeader(h)
		}
	}
	res.AppendHeader(sip.NewHeader("Server", "confd"))
	return res
}

// Reason is text as a reason phrase (RFC 3261 section 25.1, Reason-Phrase): one line of
// printable text, control characters blanked (Printable).
func Reason(text string) string { return strings.Map(Printable, text) }

// Printable keeps a reason phrase or a copied header on one line of printable text.
func Printable(r rune) rune {
	if r < ' ' || r == 0x7f {
		return ' '
	}
	return r
}

// Warning is a Warning header (RFC 3261 section 20.43) with confd's agent name: code 399 is
// "miscellaneous", 304 "media type not available"; text says what was wrong.
func Warning(code int, text string) sip.Header {
	return sip.NewHeader("Warning", fmt.Sprintf("%d confd %q", code, strings.ReplaceAll(text, `"`, "'")))
}

// RetryAfter is a Retry-After header of seconds (RFC 3261 section 20.33).
func RetryAfter(seconds int) sip.Header {
	return sip.NewHeader("Retry-After", fmt.Sprint(seconds))
}
