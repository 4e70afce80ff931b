package webrtcleg

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"

	"confd/bridge"
	"confd/codec"
	"confd/problem"
	"confd/testkit/pionbrowser"
)

// sdpWith is a WebRTC-looking offer with the given media sections, for the error cases that are
// refused before ICE starts.
func sdpWith(media string) string {
	return strings.ReplaceAll("v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nt=0 0\na=fingerprint:sha-256 "+
		"AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\n"+
		"a=ice-ufrag:abcd\na=ice-pwd:abcdefghijklmnopqrstuvwx\n"+media, "\n", "\r\n")
}

func TestWHIPErrors(t *testing.T) {
	ts := newTestServer(t, bridge.Config{Rooms: map[string]bridge.RoomSettings{
		"pinned": {PIN: "1234"},
		"locked": {Locked: true},
		"small":  {Limit: 1},
	}}, Config{})
	if _, err := ts.b.Join("small", bridge.ParticipantInfo{Kind: "test", Output: codec.Format{Codec: codec.Opus}, OutputPT: 111}, &capLeg{}); err != nil {
		t.Fatal(err)
	}
	good := pionbrowser.Start(t, pionbrowser.Options{Direction: webrtc.RTPTransceiverDirectionSendrecv}).Offer()
	cases := []struct {
		name, path, ctype, token, body string
		status                         int
		reason                         string
	}{
		{"not SDP", "/whip/room1", "text/plain", "", good, 415, "application/sdp"},
		{"no content type", "/whip/room1", "", "", good, 415, "application/sdp"},
		{"malformed", "/whip/room1", "application/sdp", "", "hello", 400, "malformed"},
		{"video only", "/whip/room1", "application/sdp", "", sdpWith("m=video 9 UDP/TLS/RTP/SAVPF 96\na=rtpmap:96 VP8/90000\na=sendonly\n"), 400, "no usable audio"},
		{"no opus", "/whip/room1", "application/sdp", "", sdpWith("m=audio 9 UDP/TLS/RTP/SAVPF 0\na=rtpmap:0 PCMU/8000\na=sendonly\n"), 400, "opus"},
		{"not webrtc", "/whip/room1", "application/sdp", "", sdpWith("m=audio 4000 RTP/AVP 111\na=rtpmap:111 opus/48000/2\n"), 400, "DTLS-SRTP"},
		{"inactive", "/whip/room1", "application/sdp", "", sdpWith("m=audio 9 UDP/TLS/RTP/SAVPF 111\na=rtpmap:111 opus/48000/2\na=inactive\n"), 400, "inactive"},
		{"whep sendonly", "/whep/room1", "application/sdp", "", sdpWith("m=audio 9 UDP/TLS/RTP/SAVPF 111\na=rtpmap:111 opus/48000/2\na=sendonly\n"), 400, "must receive"},
		{"bad room", "/whip/bad.room", "application/sdp", "", good, 400, "room name"},
		{"no pin", "/whip/pinned", "application/sdp", "", good, 401, "PIN"},
		{"wrong pin", "/whip/pinned", "application/sdp", "4321", good, 401, "PIN"},
		{"locked", "/whip/locked", "application/sdp", "", good, 403, "locked"},
		{"full", "/whip/small", "application/sdp", "", good, 409, "full"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := ts.post(t, c.path, c.ctype, c.token, c.body)
			checkError(t, resp, body, c.status, c.reason)
		})
	}
	if n := ts.s.Calls(); n != 0 {
		t.Errorf("%d calls left by refused offers", n)
	}

	// The right PIN joins.
	cl := pionbrowser.Start(t, pionbrowser.Options{Direction: webrtc.RTPTransceiverDirectionSendrecv})
	resp, body := ts.post(t, "/whip/pinned", "application/sdp", "1234", cl.Offer())
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("right PIN: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(body, "a=sendrecv") {
		t.Errorf("a sendrecv WHIP offer is not answered sendrecv:\n%s", body)
	}
	loc := resp.Header.Get("Location")
	// Method and resource errors.
	req, _ := http.NewRequest(http.MethodPatch, ts.http.URL+loc, strings.NewReader("a=end-of-candidates"))
	req.Header.Set("Content-Type", "application/trickle-ice-sdpfrag")
	resp, body = do(t, req)
	checkError(t, resp, body, 405, "trickle")
	req, _ = http.NewRequest(http.MethodGet, ts.http.URL+"/whip/room1", nil)
	resp, body = do(t, req)
	checkError(t, resp, body, 405, "POST")
	if resp := ts.delete(t, "/whip/room1/00112233445566778899aabbccddeeff", ""); resp.StatusCode != 404 {
		t.Errorf("DELETE of an unknown resource: %d", resp.StatusCode)
	}
	if resp := ts.delete(t, strings.Replace(loc, "/whip/", "/whep/", 1), ""); resp.StatusCode != 404 {
		t.Errorf("DELETE of a WHIP resource under /whep/: %d", resp.StatusCode)
	}
	if resp := ts.delete(t, loc, ""); resp.StatusCode != 401 {
		t.Errorf("DELETE without the PIN: %d", resp.StatusCode)
	}
	if resp := ts.delete(t, loc, "1234"); resp.StatusCode != 200 {
		t.Errorf("DELETE: %d", resp.StatusCode)
	}

	// Draining refuses new calls with 503 and Retry-After.
	ts.b.Drain()
	resp, body = ts.post(t, "/whip/room1", "application/sdp", "", good)
	checkError(t, resp, body, 503, "draining")
	if resp.Header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
	if st := ts.s.Stats(); st.Refused == 0 || st.Calls != 0 {
		t.Errorf("stats %+v", st)
	}
}

func checkError(t *testing.T, resp *http.Response, body string, status int, reason string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || !strings.Contains(e.Error, reason) {
		t.Errorf("body %q: want JSON {\"error\"} naming %q (%v)", body, reason, err)
	}
	if resp.Header.Get("Content-Type") != problem.ContentType {
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	if resp.Header.Get("Access-Control-Allow-Origin") == "" {
		t.Errorf("an error without CORS headers cannot be read by a page on another origin")
	}
}

// A browser page on another origin first sends a CORS preflight (RFC 9725 section 4.1, Fetch).
func TestWHIPCORSPreflight(t *testing.T) {
	ts := newTestServer(t, bridge.Config{}, Config{})
	for _, path := range []string{"/whip/room1", "/whep/room1", "/whip/room1/0123"} {
		req, _ := http.NewRequest(http.MethodOptions, ts.http.URL+path, nil)
		req.Header.Set("Origin", "https://other.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		resp, _ := do(t, req)
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "DELETE") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") ||
			!strings.Contains(h.Get("Access-Control-Expose-Headers"), "Location") ||
			!strings.Contains(h.Get("Access-Control-Expose-Headers"), "Link") ||
			!strings.Contains(h.Get("Access-Control-Expose-Headers"), "ETag") {
			t.Errorf("OPTIONS %s: %d %v", path, resp.StatusCode, h)
		}
	}
}
