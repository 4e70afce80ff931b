package webrtcleg

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"confd/bridge"
	"confd/testkit"
	"confd/testkit/pionbrowser"
)

// TestCheckOfferOneRule holds where webrtcleg's own offer check and sdpneg disagreed before
// sdpneg.ReadAudio became the one reader: the DTLS-SRTP profiles JSEP accepts (RFC 8829 section
// 5.1.2) and an Opus rtpmap without "/2" are what pion answers, so confd answers them too.
func TestCheckOfferOneRule(t *testing.T) {
	const opus = "a=rtpmap:111 opus/48000/2\n"
	noFingerprint := func(media string) string {
		return strings.ReplaceAll("v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nt=0 0\n"+media, "\n", "\r\n")
	}
	cases := []struct {
		name  string
		offer string
		err   error
	}{
		{"UDP/TLS/RTP/SAVPF", sdpWith("m=audio 9 UDP/TLS/RTP/SAVPF 111\n" + opus), nil},
		{"UDP/TLS/RTP/SAVP", sdpWith("m=audio 9 UDP/TLS/RTP/SAVP 111\n" + opus), nil},
		{"TCP/DTLS/RTP/SAVPF", sdpWith("m=audio 9 TCP/DTLS/RTP/SAVPF 111\n" + opus), nil},
		{"RTP/SAVPF with a fingerprint", sdpWith("m=audio 9 RTP/SAVPF 111\n" + opus), nil},
		{"RTP/SAVPF without a fingerprint (SDES)", noFingerprint("m=audio 9 RTP/SAVPF 111\n" + opus), ErrNotWebRTC},
		{"RTP/AVP with a fingerprint", sdpWith("m=audio 9 RTP/AVP 111\n" + opus), ErrNotWebRTC},
		{"opus/48000 (pion reads /2)", sdpWith("m=audio 9 UDP/TLS/RTP/SAVPF 111\na=rtpmap:111 opus/48000\n"), nil},
		{"opus/48000/1", sdpWith("m=audio 9 UDP/TLS/RTP/SAVPF 111\na=rtpmap:111 opus/48000/1\n"), ErrNoOpus},
		{"Opus rtpmap of a type the m-line lacks", sdpWith("m=audio 9 UDP/TLS/RTP/SAVPF 0\na=rtpmap:0 PCMU/8000\n" + opus), ErrNoOpus},
		{"the first direction, as pion reads it", sdpWith("m=audio 9 UDP/TLS/RTP/SAVPF 111\n" + opus + "a=inactive\na=sendrecv\n"), ErrNoAudio},
		{"malformed", "v=0\r\nhello\r\n", ErrBadOffer},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckOffer(tc.offer); !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Errorf("CheckOffer: %v, want %v", err, tc.err)
			}
		})
	}
}

// TestWHIPLegacyProfilesConnect shows that pion answers, and connects, the offers whose profile
// webrtcleg refused before the one rule: a browser's offer rewritten to RTP/SAVPF (with its
// fingerprint, as older WebRTC stacks write it) and to UDP/TLS/RTP/SAVP.
func TestWHIPLegacyProfilesConnect(t *testing.T) {
	ts := newTestServer(t, bridge.Config{}, Config{})
	for _, profile := range []string{"RTP/SAVPF", "UDP/TLS/RTP/SAVP"} {
		t.Run(profile, func(t *testing.T) {
			b := pionbrowser.Start(t, pionbrowser.Options{Direction: webrtc.RTPTransceiverDirectionSendrecv})
			offer := strings.Replace(b.Offer(), "m=audio 9 UDP/TLS/RTP/SAVPF ", "m=audio 9 "+profile+" ", 1)
			if !strings.Contains(offer, "m=audio 9 "+profile+" ") {
				t.Fatalf("the browser's offer has no m=audio 9 UDP/TLS/RTP/SAVPF line:\n%s", offer)
			}
			resp, answer := ts.post(t, "/whip/legacy", "application/sdp", "", offer)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("WHIP POST: %d %s", resp.StatusCode, answer)
			}
			b.Answer(answer)
			select {
			case <-b.Connected():
			case <-time.After(10 * time.Second):
				t.Fatalf("ICE and DTLS did not come up")
			}
			if !testkit.WaitFor(5*time.Second, func() bool { return len(ts.b.Participants()) == 1 }) {
				t.Fatalf("participants %d, want 1", len(ts.b.Participants()))
			}
			if resp := ts.delete(t, resp.Header.Get("Location"), ""); resp.StatusCode != http.StatusOK {
				t.Errorf("DELETE: %d", resp.StatusCode)
			}
			if !testkit.WaitFor(5*time.Second, func() bool { return len(ts.b.Participants()) == 0 }) {
				t.Errorf("participants %d after DELETE", len(ts.b.Participants()))
			}
		})
	}
}
