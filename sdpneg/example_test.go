package sdpneg_test

import (
	"errors"
	"fmt"
	"net/netip"

	"confd/codec"
	"confd/sdpneg"
)

// A SIP leg answering an INVITE: one Session per dialog, Local from the leg's RTP socket.
func ExampleSession_Answer() {
	offer := []byte("v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n" +
		"m=audio 13354 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n")
	local := sdpneg.Local{Addr: netip.MustParseAddr("192.0.2.1"), Port: 20000,
		Codecs: []codec.Codec{codec.Opus, codec.PCMU, codec.PCMA}}
	sess := sdpneg.NewSession()
	res, answer, err := sess.Answer(offer, local)
	switch {
	case errors.Is(err, sdpneg.ErrWebRTCOffer):
		// hand the offer to the WebRTC stack
	case err != nil:
		rej, _ := sdpneg.RejectionFor(err)
		fmt.Println(rej.Status, rej.Reason, rej.Warning, rej.Text)
		return
	}
	fmt.Println(res.Codec, res.PayloadType, res.Remote, res.RemoteRTCP, res.LocalDirection)
	fmt.Println(res.TelephoneEvent.PayloadType, res.TelephoneEvent.ClockRate, res.SendFormat())
	fmt.Println(len(answer) > 0)
	// Output:
	// PCMU 0 198.51.100.7:13354 198.51.100.7:13355 sendrecv
	// 101 8000 PCMU/8000 20ms
	// true
}

// Dial-out, or the late offer of an INVITE without SDP: offer, then check the answer.
func ExampleSession_Offer() {
	sess := sdpneg.NewSession()
	offer, _ := sess.Offer(sdpneg.Local{Addr: netip.MustParseAddr("192.0.2.1"), Port: 20000})
	_ = offer // send it in the INVITE (or the 200)
	answer := []byte("v=0\r\no=bob 7 7 IN IP4 198.51.100.99\r\ns=-\r\nc=IN IP4 198.51.100.99\r\nt=0 0\r\n" +
		"m=audio 30000 RTP/AVP 111 110\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 useinbandfec=1\r\n" +
		"a=rtpmap:110 telephone-event/48000\r\n")
	res, err := sess.ParseAnswer(answer)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Codec, res.PayloadType, res.TelephoneEvent.ClockRate, res.SendFormat())
	// Output: opus 111 48000 opus/48000 20ms 32kbit/s c5 nodtx
}

func ExampleRejectionFor() {
	_, _, err := sdpneg.Answer([]byte("v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n"+
		"m=audio 4000 RTP/AVP 18\r\n"), sdpneg.Local{Addr: netip.MustParseAddr("192.0.2.1"), Port: 20000})
	rej, _ := sdpneg.RejectionFor(err)
	fmt.Printf("%d %s\nWarning: %d confd %q\n", rej.Status, rej.Reason, rej.Warning, rej.Text)
	// Output:
	// 488 Not Acceptable Here
	// Warning: 305 confd "no common codec: offered G729/8000; supported opus/48000, PCMU/8000, PCMA/8000"
}
