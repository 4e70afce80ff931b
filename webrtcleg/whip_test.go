package webrtcleg

import (
	"errors"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"confd/bridge"
	"confd/testkit"
	"confd/testkit/pionbrowser"
)

// A WHIP publisher (sendonly, 440 Hz) is heard by a WHEP listener and hears nothing; both leave
// with DELETE and every goroutine and socket is gone afterwards.
func TestWHIPPublisherHeardByWHEPListener(t *testing.T) {
	base := runtime.NumGoroutine()
	// Reports every second on average (the first within 0.75 s): the rooms send them, and their
	// interval is bridge's test (TestRoomSendsEachParticipantItsReports), not this one's.
	ts := newTestServer(t, bridge.Config{RTCPInterval: time.Second}, Config{})

	pub := pionbrowser.Start(t, pionbrowser.Options{Direction: webrtc.RTPTransceiverDirectionSendonly, ToneHz: 440})
	resp, answer := ts.post(t, "/whip/room1?name=obs", "application/sdp", "", pub.Offer())
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("WHIP POST: %d %s", resp.StatusCode, answer)
	}
	pubLoc := resp.Header.Get("Location")
	if !strings.HasPrefix(pubLoc, "/whip/room1/") || resp.Header.Get("ETag") == "" {
		t.Fatalf("Location %q, ETag %q", pubLoc, resp.Header.Get("ETag"))
	}
	if got := resp.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(got, "Location") {
		t.Errorf("Access-Control-Expose-Headers %q", got)
	}
	for _, want := range []string{"a=recvonly", "useinbandfec=1", "usedtx=1", "a=candidate:", "a=end-of-candidates"} {
		if !strings.Contains(answer, want) {
			t.Errorf("WHIP answer lacks %q:\n%s", want, answer)
		}
	}
	pub.Answer(answer)

	lis := pionbrowser.Start(t, pionbrowser.Options{Direction: webrtc.RTPTransceiverDirectionRecvonly})
	resp, answer = ts.post(t, "/whep/room1?name=player", "application/sdp", "", lis.Offer())
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("WHEP POST: %d %s", resp.StatusCode, answer)
	}
	lisLoc := resp.Header.Get("Location")
	if !strings.Contains(answer, "a=sendonly") {
		t.Errorf("WHEP answer is not sendonly:\n%s", answer)
	}
	lis.Answer(answer)

	if !testkit.WaitFor(5*time.Second, func() bool { n, _ := lis.Received(); return n > 10 }) {
		t.Fatalf("the listener got no audio; calls: %+v", ts.s.Stats())
	}
	hearsTone(t, lis, 440, -12)
	pubTracks, pubPackets := pub.Tracks(), len(pub.Packets())
	if pubTracks != 0 || pubPackets != 0 {
		t.Errorf("the publisher got %d tracks and %d packets, want none", pubTracks, pubPackets)
	}
	// confd's own RTCP: sender reports to the listener with the SSRC of its answer, receiver
	// reports to the publisher about its stream.
	if !testkit.WaitFor(3*time.Second, func() bool {
		return lis.SenderReports() > 0 && pub.ReportBlocks() > 0
	}) {
		t.Errorf("RTCP: the listener got %d sender reports, the publisher %d report blocks", lis.SenderReports(), pub.ReportBlocks())
	}
	st, err := ts.b.RoomState("room1")
	if err != nil || len(st.Participants) != 2 {
		t.Fatalf("room: %+v %v", st, err)
	}
	for _, p := range st.Participants {
		if p.Kind != "webrtc" || (p.Name != "obs" && p.Name != "player") {
			t.Errorf("participant %+v", p)
		}
	}

	for _, loc := range []string{pubLoc, lisLoc} {
		if resp := ts.delete(t, loc, ""); resp.StatusCode != http.StatusOK {
			t.Errorf("DELETE %s: %d", loc, resp.StatusCode)
		}
		if resp := ts.delete(t, loc, ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("second DELETE %s: %d, want 404", loc, resp.StatusCode)
		}
	}
	if ts.s.Calls() != 0 {
		t.Errorf("%d calls after DELETE", ts.s.Calls())
	}
	if _, err := ts.b.RoomState("room1"); err == nil {
		if !testkit.WaitFor(2*time.Second, func() bool { _, err := ts.b.RoomState("room1"); return err != nil }) {
			t.Errorf("room1 still exists after both left")
		}
	}
	pub.Close()
	lis.Close()
	ts.close()
	testkit.CheckGoroutines(t, base)
}

// Two sendrecv WHIP clients (the documented extension) are full participants: each hears the
// other's tone and not its own (minus-one).
func TestWHIPSendrecvParticipantsHearEachOther(t *testing.T) {
	ts := newTestServer(t, bridge.Config{}, Config{})
	tones := []float64{440, 1000}
	var clients []*pionbrowser.Browser
	for _, hz := range tones {
		cl := pionbrowser.Start(t, pionbrowser.Options{Direction: webrtc.RTPTransceiverDirectionSendrecv, ToneHz: hz})
		resp, answer := ts.post(t, "/whip/duo", "application/sdp", "", cl.Offer())
		if resp.StatusCode != http.StatusCreated || !strings.Contains(answer, "a=sendrecv") {
			t.Fatalf("POST: %d\n%s", resp.StatusCode, answer)
		}
		cl.Answer(answer)
		clients = append(clients, cl)
	}
	for i, cl := range clients {
		hearsTone(t, cl, tones[1-i], -18, tones[i])
	}
}

// TestWHIPNameIsCleanedByTheBridge: a ?name= longer than bridge.MaxNameLen, or with a CRLF
// in it, no longer makes WHIP refuse the call (the leg has no name rule of its own): the
// publisher joins under the name the bridge's one rule makes of it.
func TestWHIPNameIsCleanedByTheBridge(t *testing.T) {
	ts := newTestServer(t, bridge.Config{}, Config{})
	pub := pionbrowser.Start(t, pionbrowser.Options{Direction: webrtc.RTPTransceiverDirectionSendonly, ToneHz: 440})
	name := "OBS\r\nstudio " + strings.Repeat("x", 300)
	resp, answer := ts.post(t, "/whip/named?name="+url.QueryEscape(name), "application/sdp", "", pub.Offer())
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("WHIP POST: %d %s", resp.StatusCode, answer)
	}
	pub.Answer(answer)
	var st bridge.RoomState
	joined := testkit.WaitFor(5*time.Second, func() bool {
		var err error
		st, err = ts.b.RoomState("named")
		return err == nil && len(st.Participants) == 1
	})
	if !joined {
		t.Fatalf("the publisher did not join: %+v", st)
	}
	want := ("OBS studio " + strings.Repeat("x", 300))[:bridge.MaxNameLen]
	if got := st.Participants[0].Name; got != want {
		t.Errorf("joined as %q, want %q", got, want)
	}
}

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
