package gophone

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"confd/codec"
)

// byeFromConfd is a BYE as sipgo sends it, with compact and folded-case header names.
const byeFromConfd = "BYE sip:ada@127.0.0.1:5070 SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK.1\r\n" +
	"v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK.2\r\n" +
	"f: <sip:room@127.0.0.1>;tag=confd1\r\n" +
	"To: \"Ada\" <sip:ada@127.0.0.1>;tag=ada1\r\n" +
	"i: abc@127.0.0.1\r\nCSEQ: 7 BYE\r\nContent-Length: 0\r\n\r\n"

func TestParseAndAnswerABye(t *testing.T) {
	m, ok := parseSIP([]byte(byeFromConfd))
	if !ok || m.method != "BYE" || m.uri != "sip:ada@127.0.0.1:5070" || m.cseqMethod() != "BYE" {
		t.Fatalf("parsed %+v, %v", m, ok)
	}
	if len(m.header["via"]) != 2 || m.get("call-id") != "abc@127.0.0.1" || headerParam(m.get("from"), "tag") != "confd1" {
		t.Fatalf("headers %+v", m.header)
	}
	r, ok := parseSIP(response(m, 200, "OK", "x"))
	if !ok || r.status != 200 || len(r.header["via"]) != 2 || r.get("call-id") != "abc@127.0.0.1" ||
		r.get("cseq") != "7 BYE" || headerParam(r.get("to"), "tag") != "ada1" {
		t.Errorf("response %+v", r)
	}
}

func TestParseAResponse(t *testing.T) {
	msg := "SIP/2.0 200 OK\r\nTo: <sip:room@127.0.0.1>;tag=t9\r\nm: <sip:room@127.0.0.1:5060;transport=udp>;expires=60\r\n" +
		"CSeq: 1 INVITE\r\nContent-Length: 4\r\n\r\nv=0\n"
	m, ok := parseSIP([]byte(msg))
	if !ok || m.status != 200 || m.cseqMethod() != "INVITE" || !bytes.Equal(m.body, []byte("v=0\n")) {
		t.Fatalf("parsed %+v, %v", m, ok)
	}
	if got := contactURI(m.get("contact")); got != "sip:room@127.0.0.1:5060;transport=udp" {
		t.Errorf("contact URI %q", got)
	}
	if got := headerParam(m.get("contact"), "transport"); got != "" {
		t.Errorf("a URI parameter read as a header parameter: %q", got)
	}
	for _, bad := range []string{"", "hello", "SIP/2.0 abc OK\r\n\r\n", "INVITE sip:x HTTP/1.1\r\n\r\n"} {
		if _, ok := parseSIP([]byte(bad)); ok {
			t.Errorf("%q parsed as SIP", bad)
		}
	}
}

func TestOfferAndAnswer(t *testing.T) {
	offer := string(Offer(1, 40000, codec.Opus))
	for _, want := range []string{"m=audio 40000 RTP/AVP 111\r\n", "a=rtpmap:111 opus/48000/2\r\n", "a=rtcp-mux\r\n"} {
		if !strings.Contains(offer, want) {
			t.Errorf("offer lacks %q:\n%s", want, offer)
		}
	}
	if !strings.Contains(string(Offer(1, 40000, codec.PCMA)), "m=audio 40000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n") {
		t.Errorf("PCMA offer:\n%s", Offer(1, 40000, codec.PCMA))
	}
	answer := "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 30000 RTP/AVP 111 101\r\nc=IN IP4 127.0.0.2\r\n"
	addr, pts, err := AnswerMedia([]byte(answer))
	if err != nil || addr != netip.MustParseAddrPort("127.0.0.2:30000") || len(pts) != 2 || pts[0] != 111 {
		t.Errorf("answer read as %v %v %v", addr, pts, err)
	}
	if _, _, err := AnswerMedia([]byte("v=0\r\nm=audio 0 RTP/AVP 0\r\n")); err == nil {
		t.Error("an answer without an address or port was accepted")
	}
}

// FuzzParseSIP: no datagram makes the parsers panic, and whatever parses as a request can be
// answered with something that parses as a response.
func FuzzParseSIP(f *testing.F) {
	f.Add([]byte(byeFromConfd))
	f.Add([]byte("SIP/2.0 180 Ringing\r\nCSeq: 1 INVITE\r\n\r\n"))
	f.Add(Offer(1, 4000, codec.PCMU))
	f.Add([]byte("OPTIONS sip:x SIP/2.0\r\nVia:\r\n:\r\nTo: <sip:\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = AnswerMedia(b)
		m, ok := parseSIP(b)
		if !ok {
			return
		}
		_ = contactURI(m.get("contact"))
		_ = headerParam(m.get("to"), "tag")
		if m.method != "" {
			if r, ok := parseSIP(response(m, 200, "OK", "t")); !ok || r.status != 200 {
				t.Errorf("the answer to %q does not parse: %+v", b, r)
			}
		}
	})
}
