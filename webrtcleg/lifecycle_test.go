package webrtcleg

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"confd/bridge"
	"confd/testkit"
	"confd/testkit/pionbrowser"
)

// short ICE timers so that a vanished peer is noticed in a second or two.
var shortICE = Config{DisconnectedTimeout: 500 * time.Millisecond, FailedTimeout: time.Second, KeepAlive: 200 * time.Millisecond}

// A browser that vanishes (its tab killed: no DTLS close, no DELETE) is removed within the ICE
// timeouts: the participant leaves, Done closes, and every goroutine and socket is freed.
func TestVanishedPeerIsRemoved(t *testing.T) {
	base := runtime.NumGoroutine()
	ts := newTestServer(t, bridge.Config{}, shortICE)
	cl, call, _ := ts.connect(t, pionbrowser.Options{Direction: webrtc.RTPTransceiverDirectionSendrecv, ToneHz: 440, OwnSocket: true}, JoinInfo{Name: "tab"})
	// The tab dies: its ICE agent stops answering consent checks, with no goodbye.
	cl.Vanish()
	select {
	case <-call.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("the call outlived its ICE failed timeout: %+v", call.Stats())
	}
	if r := call.Reason(); !strings.Contains(r, "failed") {
		t.Errorf("reason %q", r)
	}
	if ts.s.Calls() != 0 || len(ts.b.Participants()) != 0 {
		t.Errorf("calls %d, participants %d after the peer vanished", ts.s.Calls(), len(ts.b.Participants()))
	}
	cl.Close()
	ts.close()
	testkit.CheckGoroutines(t, base)
}

// An offerer that never starts ICE (it got the answer and went away) is removed after
// ConnectTimeout.
func TestNeverConnectedIsRemoved(t *testing.T) {
	cfg := shortICE
	cfg.ConnectTimeout = 500 * time.Millisecond
	ts := newTestServer(t, bridge.Config{}, cfg)
	cl := pionbrowser.Start(t, pionbrowser.Options{Direction: webrtc.RTPTransceiverDirectionRecvonly})
	_, call, err := ts.s.Answer(context.Background(), "room1", cl.Offer(), JoinInfo{Listen: true, Kind: "whep"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-call.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("a call that never connected is still there")
	}
	if r := call.Reason(); !strings.Contains(r, "timed out") && !strings.Contains(r, "failed") {
		t.Errorf("reason %q", r)
	}
	if len(ts.b.Participants()) != 0 {
		t.Errorf("the participant stayed")
	}
}

// A kick from the API (bridge.Participant.Hangup) closes the peer connection; Server.Close ends
// every call; the SIP side's Close and DTMF work on a Call.
func TestHangupCloseAndDTMF(t *testing.T) {
	ts := newTestServer(t, bridge.Config{}, shortICE)
	digits := make(chan byte, 4)
	var calls []*Call
	var clients []*pionbrowser.Browser
	for i := 0; i < 3; i++ {
		cl := pionbrowser.Start(t, pionbrowser.Options{Direction: webrtc.RTPTransceiverDirectionSendrecv, ToneHz: 440})
		answer, call, err := ts.s.Answer(context.Background(), "room1", cl.Offer(), JoinInfo{Name: "sip", From: "sip:alice@example.net",
			OnDigit: func(d byte) { digits <- d }})
		if err != nil {
			t.Fatal(err)
		}
		cl.Answer(answer)
		calls, clients = append(calls, call), append(clients, cl)
	}
	for _, c := range calls {
		if !testkit.WaitFor(5*time.Second, func() bool { return c.Stats().Connected }) {
			t.Fatalf("not connected")
		}
	}
	calls[0].DTMF('5', time.Now())
	select {
	case d := <-digits:
		if d != '5' {
			t.Errorf("digit %q", d)
		}
	case <-time.After(time.Second):
		t.Errorf("the SIP INFO digit did not reach the participant")
	}
	// Kicked from the API.
	calls[0].Participant().Hangup("kicked")
	select {
	case <-calls[0].Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("kick did not close the call")
	}
	if calls[0].Reason() != "kicked" {
		t.Errorf("reason %q", calls[0].Reason())
	}
	// The browser side sees its peer connection close (DTLS close_notify).
	if !testkit.WaitFor(5*time.Second, func() bool {
		s := clients[0].PC.ConnectionState()
		return s == webrtc.PeerConnectionStateClosed || s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateDisconnected
	}) {
		t.Errorf("the client's connection is still %v", clients[0].PC.ConnectionState())
	}
	// BYE from the browser.
	if err := calls[1].Close(); err != nil || calls[1].Reason() != "hangup" {
		t.Errorf("Close: %v, reason %q", err, calls[1].Reason())
	}
	// Shutdown.
	if err := ts.s.Close(); err != nil {
		t.Error(err)
	}
	select {
	case <-calls[2].Done():
	default:
		t.Errorf("Server.Close returned with a call open")
	}
	late := pionbrowser.Start(t, pionbrowser.Options{Direction: webrtc.RTPTransceiverDirectionSendrecv})
	if _, _, err := ts.s.Answer(context.Background(), "room1", late.Offer(), JoinInfo{}); err == nil {
		t.Errorf("a closed server answered")
	}
}

// Every leg on one UDP port; STUN/TURN servers are handed to WHIP clients as Link headers.
func TestUDPMuxAndICEServerLinks(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	ts := newTestServer(t, bridge.Config{}, Config{UDPPort: port, ICEServers: []ICEServer{
		{URLs: []string{"stun:stun.example.net:3478"}},
		{URLs: []string{"turn:turn.example.net:3478?transport=udp"}, Username: "u", Credential: `p"w`},
	}})
	// The configured STUN server is unreachable here; gathering must still complete.
	var locs []string
	for i := 0; i < 2; i++ {
		cl := pionbrowser.Start(t, pionbrowser.Options{Direction: webrtc.RTPTransceiverDirectionSendonly, ToneHz: 440})
		resp, answer := ts.post(t, "/whip/mux", "application/sdp", "", cl.Offer())
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST: %d %s", resp.StatusCode, answer)
		}
		if !strings.Contains(answer, " "+strconv.Itoa(port)+" typ host") {
			t.Errorf("the answer's candidates are not on the shared port %d:\n%s", port, answer)
		}
		links := resp.Header.Values("Link")
		if len(links) != 2 || links[0] != `<stun:stun.example.net:3478>; rel="ice-server"` ||
			links[1] != `<turn:turn.example.net:3478?transport=udp>; rel="ice-server"; username="u"; credential="p\"w"; credential-type="password"` {
			t.Errorf("Link headers %q", links)
		}
		cl.Answer(answer)
		locs = append(locs, resp.Header.Get("Location"))
	}
	if !testkit.WaitFor(5*time.Second, func() bool {
		n := 0
		for _, p := range ts.b.Participants() {
			_ = p
			n++
		}
		st := ts.s.Stats()
		return n == 2 && st.Calls == 2 && allConnected(ts.s)
	}) {
		t.Fatalf("the two legs on one port did not both connect")
	}
	for _, l := range locs {
		if resp := ts.delete(t, l, ""); resp.StatusCode != 200 {
			t.Errorf("DELETE %s: %d", l, resp.StatusCode)
		}
	}
}

func allConnected(s *Server) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.calls {
		if !c.connected.Load() {
			return false
		}
	}
	return true
}
