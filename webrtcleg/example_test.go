package webrtcleg_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"confd/bridge"
	"confd/webrtcleg"
)

// The SIP side's use of Answer for an INVITE over WebSocket (RFC 7118) whose SDP is a WebRTC
// offer: answer, hang up on BYE, send BYE when the connection dies, pass SIP INFO digits.
func ExampleServer_Answer() {
	b := bridge.New(bridge.Config{})
	srv, err := webrtcleg.New(b, webrtcleg.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	offer := "not SDP" // the INVITE's body; this one is not even SDP
	answer, call, err := srv.Answer(context.Background(), "room1", offer, webrtcleg.JoinInfo{
		Name: "Alice", From: "sip:alice@example.net",
	})
	switch {
	case errors.Is(err, webrtcleg.ErrBadOffer):
		fmt.Println("400 Bad Request")
		return
	case errors.Is(err, webrtcleg.ErrNoAudio), errors.Is(err, webrtcleg.ErrNoOpus), errors.Is(err, webrtcleg.ErrNotWebRTC):
		fmt.Println("488 Not Acceptable Here")
		return
	case err != nil:
		fmt.Println("503 Service Unavailable")
		return
	}
	fmt.Println("200 OK with", len(answer), "bytes of SDP")
	go func() {
		<-call.Done() // ICE/DTLS failure, kicked, drained: send BYE unless the peer hung up
		fmt.Println("BYE:", call.Reason())
	}()
	call.DTMF('1', time.Now()) // a SIP INFO digit
	_ = call.Close()           // the browser's BYE
	// Output: 400 Bad Request
}
