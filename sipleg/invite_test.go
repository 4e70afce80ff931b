package sipleg

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"confd/testkit"
)

// sdpOffer writes an audio offer from a caller at 127.0.0.1:port.
func sdpOffer(port int, version int, mlines ...string) string {
	s := fmt.Sprintf("v=0\r\no=caller 1 %d IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n", version)
	for _, m := range mlines {
		s += strings.ReplaceAll(m, "PORT", fmt.Sprint(port))
	}
	return s
}

const (
	pcmuAudio  = "m=audio PORT RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
	pcmaAudio  = "m=audio PORT RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
	opusAudio  = "m=audio PORT RTP/AVP 111 0\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n"
	videoLine  = "m=video 40000 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n"
	g722Audio  = "m=audio PORT RTP/AVP 9 101\r\na=rtpmap:9 G722/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
	g729Audio  = "m=audio PORT RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"
	sendonlyAt = "a=sendonly\r\n"
)

// dialog is one call made by a rawClient.
type dialog struct {
	c      *rawClient
	callID string
	cseq   uint32
	toTag  string
	last   *sip.Response
	hdrs   string // extra header lines of the next request, each ending in CRLF
	// contact is the host:port the requests' Contact names, when not the client's own socket.
	contact string
}

func (c *rawClient) newDialog() *dialog {
	return &dialog{c: c, callID: fmt.Sprintf("test-%d@127.0.0.1", time.Now().UnixNano()), cseq: 1}
}

// message is the request of method to room with an optional SDP body, as request sends it.
func (d *dialog) message(method, room, body string) []byte {
	c := d.c
	to := "<sip:" + room + "@" + c.srv.String() + ">"
	if d.toTag != "" {
		to += ";tag=" + d.toTag
	}
	var ct string
	if body != "" {
		ct = "Content-Type: application/sdp\r\n"
	}
	contact := c.localAddr()
	if d.contact != "" {
		contact = d.contact
	}
	msg := fmt.Sprintf("%s sip:%s@%s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=z9hG4bK%d\r\nFrom: \"Tester\" <sip:tester@127.0.0.1>;tag=caller1\r\n"+
		"To: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:tester@%s>\r\nMax-Forwards: 70\r\n%s%sContent-Length: %d\r\n\r\n%s",
		method, room, c.srv.String(), strings.ToUpper(c.network), c.localAddr(), time.Now().UnixNano(), to, d.callID, d.cseq, method,
		contact, d.hdrs, ct, len(body), body)
	return []byte(msg)
}

// request sends method to room with an optional SDP body and returns the final answer.
func (d *dialog) request(method, room, body string) *sip.Response {
	c := d.c
	c.send(d.message(method, room, body))
	for {
		res := c.read(3 * time.Second)
		if res == nil {
			c.t.Fatalf("%s not answered", method)
		}
		if res.CSeq() == nil || res.CSeq().SeqNo != d.cseq || (res.CallID() != nil && res.CallID().Value() != d.callID) {
			continue // a retransmission of an earlier answer, or another dialog's
		}
		d.last = res
		if tag, ok := res.To().Params.Get("tag"); ok && d.toTag == "" && res.StatusCode < 300 {
			d.toTag = tag
		}
		return res
	}
}

func (d *dialog) ack(body string) {
	c := d.c
	msg := string(c.inDialog("ACK", d.last, d.cseq))
	if body != "" {
		msg = strings.Replace(msg, "Content-Length: 0\r\n\r\n", fmt.Sprintf("Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(body), body), 1)
	}
	c.send([]byte(msg))
	d.cseq++
}

func (d *dialog) bye() {
	res := d.request("BYE", "x", "")
	if res.StatusCode != 200 {
		d.c.t.Fatalf("BYE answered %d", res.StatusCode)
	}
	d.cseq++
}

// callerMedia opens a caller's RTP socket on 127.0.0.1 (closed with the test) and returns it
// with its port, the one the caller's SDP names.
func callerMedia(t *testing.T) (*net.UDPConn, int) {
	t.Helper()
	u, addr := loopbackUDP(t)
	return u, int(addr.Port())
}

func mustContain(t *testing.T, body []byte, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(string(body), w) {
			t.Fatalf("answer lacks %q:\n%s", w, body)
		}
	}
}

func TestInviteSDPCases(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	_, port := callerMedia(t)
	cases := []struct {
		name   string
		offer  string
		status int
		want   []string
	}{
		{"no direction is sendrecv", sdpOffer(port, 1, pcmuAudio), 200, []string{"RTP/AVP 0 101", "a=sendrecv", "telephone-event/8000"}},
		{"caller's first codec wins", sdpOffer(port, 1, opusAudio), 200, []string{"RTP/AVP 111", "opus/48000/2"}},
		{"video m-line rejected with port 0", sdpOffer(port, 1, pcmaAudio, videoLine), 200, []string{"RTP/AVP 8 101", "m=video 0 "}},
		{"G.722 answered at its 8000 RTP clock", sdpOffer(port, 1, g722Audio), 200, []string{"RTP/AVP 9 101", "G722/8000", "telephone-event/8000"}},
		{"no common codec", sdpOffer(port, 1, g729Audio), 488, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newRawClient(t, "udp", ts)
			d := c.newDialog()
			res := d.request("INVITE", "sdp", tc.offer)
			if res.StatusCode != tc.status {
				t.Fatalf("answered %d %s, want %d", res.StatusCode, res.Reason, tc.status)
			}
			if tc.status == 488 {
				if res.GetHeader("Warning") == nil {
					t.Fatal("488 without Warning")
				}
				return
			}
			mustContain(t, res.Body(), tc.want...)
			d.ack("")
			d.bye()
		})
	}
	waitIdle(t, ts)
}

func TestLateOfferHoldAndCodecChange(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	_, port := callerMedia(t)
	c := newRawClient(t, "tcp", ts)
	d := c.newDialog()
	// Late offer: no SDP in the INVITE, confd offers in the 200, the answer comes in the ACK.
	res := d.request("INVITE", "late", "")
	if res.StatusCode != 200 {
		t.Fatalf("late offer answered %d", res.StatusCode)
	}
	mustContain(t, res.Body(), "opus/48000/2", "PCMU/8000", "PCMA/8000", "telephone-event")
	d.ack(sdpOffer(port, 1, "m=audio PORT RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"))
	waitParticipants(t, ts, "late", 1)

	c1 := ts.onlyCall(t)
	if c1.result().Codec.String() != "PCMU" {
		t.Fatalf("late offer negotiated %v", c1.result().Codec)
	}
	// Hold: sendonly from the caller is answered recvonly and the caller is neither mixed
	// nor sent audio.
	res = d.request("INVITE", "late", sdpOffer(port, 2, pcmuAudio+sendonlyAt))
	if res.StatusCode != 200 {
		t.Fatalf("hold answered %d", res.StatusCode)
	}
	mustContain(t, res.Body(), "a=recvonly")
	d.ack("")
	if !c1.hold.Load() || !c1.part.Load().OnHold() {
		t.Fatal("caller not on hold")
	}
	sent := c1.media.Stats().SendDrops
	c1.SendRTP(rtpPacket(1))
	if c1.media.Stats().SendDrops != sent+1 {
		t.Fatal("audio sent to a held caller")
	}
	// Unhold and change codec to PCMA in one re-INVITE.
	res = d.request("INVITE", "late", sdpOffer(port, 3, pcmaAudio))
	if res.StatusCode != 200 {
		t.Fatalf("unhold answered %d", res.StatusCode)
	}
	mustContain(t, res.Body(), "a=sendrecv", "PCMA/8000")
	d.ack("")
	if c1.hold.Load() || c1.part.Load().OnHold() || c1.result().Codec.String() != "PCMA" {
		t.Fatalf("after unhold: hold %v codec %v", c1.hold.Load(), c1.result().Codec)
	}
	// UPDATE with an unacceptable offer is refused and changes nothing.
	res = d.request("UPDATE", "late", sdpOffer(port, 4, g729Audio))
	if res.StatusCode != 488 {
		t.Fatalf("bad UPDATE answered %d", res.StatusCode)
	}
	d.cseq++
	if c1.result().Codec.String() != "PCMA" {
		t.Fatal("a refused UPDATE changed the codec")
	}
	// INFO DTMF is answered.
	d.bye()
	waitIdle(t, ts)
}

// participants is the number of participants in room (0 for a room that does not exist).
func participants(ts *testServer, room string) int {
	st, err := ts.bridge.RoomState(room)
	if err != nil {
		return 0
	}
	return len(st.Participants)
}

// waitParticipants waits until room has n participants (a call is in the room once its ACK
// has been handled, a moment after it was sent), failing the test after 5 s.
func waitParticipants(t testing.TB, ts *testServer, room string, n int) {
	t.Helper()
	if !testkit.WaitFor(5*time.Second, func() bool { return participants(ts, room) == n }) {
		t.Fatalf("room %s has %d participants after 5 s, want %d", room, participants(ts, room), n)
	}
}

func (ts *testServer) onlyCall(t testing.TB) *call {
	t.Helper()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.calls) != 1 {
		t.Fatalf("%d calls", len(ts.calls))
	}
	for _, c := range ts.calls {
		return c
	}
	return nil
}
