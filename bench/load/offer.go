package load

import "fmt"

// sdpOffer is the offer of a call whose media socket is port: one audio codec and
// telephone-event (RFC 4733) at its clock, RTCP multiplexed on the RTP port (RFC 5761).
func sdpOffer(id int, port int, pt uint8, rtpmap string, clock int) []byte {
	return fmt.Appendf(nil, "v=0\r\no=load %d 1 IN IP4 127.0.0.1\r\ns=load\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP %d 101\r\na=rtpmap:%d %s\r\na=rtpmap:101 telephone-event/%d\r\na=fmtp:101 0-15\r\n"+
		"a=ptime:20\r\na=rtcp-mux\r\na=sendrecv\r\n", id, port, pt, pt, rtpmap, clock)
}
