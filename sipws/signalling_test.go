package sipws

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/icholy/digest"

	"confd/bridge"
	"confd/sipdigest"
	"confd/sipua"
	"confd/testkit"
	"confd/testkit/rtptest"
	"confd/webrtcleg"
)

func TestHandshakeNeedsSIPSubprotocol(t *testing.T) {
	e := newFakeEnv(t, bridge.Config{}, Config{})
	_, _, _, err := ws.Dialer{Timeout: wait}.Dial(context.Background(), e.url)
	var status ws.StatusError
	if !errors.As(err, &status) || int(status) != 400 {
		t.Fatalf("dial without subprotocol: %v, want HTTP 400", err)
	}
	if _, _, _, err := (ws.Dialer{Protocols: []string{"chat"}, Timeout: wait}).Dial(context.Background(), e.url); err == nil {
		t.Fatal("dial with another subprotocol was accepted")
	}
	if st := e.s.Stats(); st.Refused != 2 || st.ConnectionsTotal != 0 {
		t.Errorf("stats %+v", st)
	}
	c := dialSIP(t, e.url)
	c.expectStatus(newDialog("sip:room@confd").req("OPTIONS", "", ""), sip.OPTIONS, 200)
}

func TestRegisterOpen(t *testing.T) {
	e := newFakeEnv(t, bridge.Config{}, Config{})
	c := dialSIP(t, e.url)
	d := newDialog("sip:confd")
	d.to = "sip:web@" + d.host
	res := c.expectStatus(d.req("REGISTER", "Expires: 7200\r\n", ""), sip.REGISTER, 200)
	ct := res.Contact()
	if ct == nil || !strings.HasSuffix(ct.Address.Host, ".invalid") {
		t.Fatalf("Contact not echoed: %s", res)
	}
	if exp, _ := ct.Params.Get("expires"); exp != "3600" {
		t.Errorf("expires %q, want 3600 (capped)", exp)
	}
	// Unregistering lists no binding.
	res = c.expectStatus(d.req("REGISTER", "Expires: 0\r\n", ""), sip.REGISTER, 200)
	if res.Contact() != nil {
		t.Errorf("unregister echoed a Contact: %s", res)
	}
}

// restricted lets in only the digest user ada, password pw.
var restricted = sipua.AuthConfig{Restrict: true, Users: []sipdigest.User{{Name: "ada", Password: "pw"}}}

// authorize answers a 401's challenge for req (method, uri) as a SIP.js user agent does.
func authorize(t *testing.T, res *sip.Response, method, uri, user, password string) string {
	t.Helper()
	h := res.GetHeader("WWW-Authenticate")
	if h == nil {
		t.Fatalf("401 without WWW-Authenticate: %s", res)
	}
	chal, err := digest.ParseChallenge(h.Value())
	if err != nil {
		t.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: method, URI: uri, Username: user, Password: password, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	return "Authorization: " + cred.String() + "\r\n"
}

func TestRegisterDigest(t *testing.T) {
	sec := sipua.AuthConfig{Users: []sipdigest.User{{Name: "ada", Password: "s3cret"}}, Realm: "example"}
	e := newFakeEnv(t, bridge.Config{}, Config{Auth: sec})
	c := dialSIP(t, e.url)
	d := newDialog("sip:confd")
	res := c.expectStatus(d.req("REGISTER", "", ""), sip.REGISTER, 401)
	if !strings.Contains(res.GetHeader("WWW-Authenticate").Value(), `realm="example"`) {
		t.Errorf("challenge %s", res.GetHeader("WWW-Authenticate").Value())
	}
	c.expectStatus(d.req("REGISTER", authorize(t, res, "REGISTER", "sip:confd", "ada", "wrong"), ""), sip.REGISTER, 401)
	c.expectStatus(d.req("REGISTER", authorize(t, res, "REGISTER", "sip:confd", "bob", "s3cret"), ""), sip.REGISTER, 401)
	c.expectStatus(d.req("REGISTER", authorize(t, res, "REGISTER", "sip:confd", "ada", "s3cret"), ""), sip.REGISTER, 200)
	if st := e.s.Stats(); st.Registered != 1 || st.Challenged != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestRestrictedInviteNeedsCredentials(t *testing.T) {
	e := newFakeEnv(t, bridge.Config{}, Config{Auth: restricted})
	c := dialSIP(t, e.url)
	d := newDialog("sip:room1@confd")
	res := c.expectStatus(d.invite(fakeOffer, ""), sip.INVITE, 401)
	c.send(d.req("ACK", "", ""))
	// Credentials on the INVITE itself.
	d2 := newDialog("sip:room1@confd")
	res2 := c.expectStatus(d2.invite(fakeOffer, authorize(t, res, "INVITE", "sip:room1@confd", "ada", "pw")), sip.INVITE, 200)
	d2.answered(res2)
	c.send(d2.req("ACK", "", ""))
	// A connection that registered is trusted.
	c2 := dialSIP(t, e.url)
	r := newDialog("sip:confd")
	chal := c2.expectStatus(r.req("REGISTER", "", ""), sip.REGISTER, 401)
	c2.expectStatus(r.req("REGISTER", authorize(t, chal, "REGISTER", "sip:confd", "ada", "pw"), ""), sip.REGISTER, 200)
	e.call(t, c2, "sip:room1@confd")
	// Restrict without users and not from a trunk: forbidden.
	e2 := newFakeEnv(t, bridge.Config{}, Config{Auth: sipua.AuthConfig{Restrict: true}})
	c3 := dialSIP(t, e2.url)
	c3.expectStatus(newDialog("sip:room1@confd").invite(fakeOffer, ""), sip.INVITE, 403)
	e3 := newFakeEnv(t, bridge.Config{}, Config{Auth: sipua.AuthConfig{Restrict: true, Trunks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}})
	e3.call(t, dialSIP(t, e3.url), "sip:room1@confd")
}

func TestInviteAckBye(t *testing.T) {
	base := runtime.NumGoroutine()
	e := newFakeEnv(t, bridge.Config{}, Config{})
	c := dialSIP(t, e.url)
	d := newDialog("sip:room1@127.0.0.1")
	c.send(d.invite(fakeOffer, ""))
	if res := c.next().(*sip.Response); res.StatusCode != 100 {
		t.Fatalf("first answer %d, want 100 Trying", res.StatusCode)
	}
	res := c.final(sip.INVITE)
	if res.StatusCode != 200 || !strings.HasPrefix(string(res.Body()), "v=0") || res.ContentType().Value() != "application/sdp" {
		t.Fatalf("INVITE answered %s", res)
	}
	if ct := res.Contact(); ct == nil || ct.Address.User != "room1" || ct.Address.UriParams.GetOr("transport", "") != "ws" {
		t.Errorf("Contact %v", res.Contact())
	}
	d.answered(res)
	if d.toTag == "" {
		t.Fatal("200 without a To tag")
	}
	c.send(d.req("ACK", "", ""))
	m := <-e.fa.calls
	info := <-e.fa.infos
	if info.Name != "Ada" || info.From != "sip:web@"+d.host || info.Kind != "sip" {
		t.Errorf("join info %+v", info)
	}
	if e.s.Calls() != 1 {
		t.Errorf("Calls() = %d", e.s.Calls())
	}
	c.expectStatus(d.req("BYE", "", ""), sip.BYE, 200)
	if !testkit.WaitFor(wait, func() bool { return m.closed.Load() && e.s.Calls() == 0 }) {
		t.Fatal("BYE did not close the call")
	}
	c.expectStatus(d.req("BYE", "", ""), sip.BYE, 481)
	st := e.s.Stats()
	if st.Invites != 1 || st.Answered != 1 || st.ByeIn != 1 || st.Connections != 1 {
		t.Errorf("stats %+v", st)
	}
	c.close()
	testkit.CheckGoroutines(t, base+3) // the httptest server's and the env's own
}

func TestConfdEndsCallWithBye(t *testing.T) {
	e := newFakeEnv(t, bridge.Config{}, Config{})
	c := dialSIP(t, e.url)
	d, m := e.call(t, c, "sip:room1@confd")
	m.end() // kicked: webrtcleg closed the PeerConnection
	bye := c.request(sip.BYE)
	if bye.Recipient.Host != d.host || bye.Recipient.User != "web" {
		t.Errorf("BYE to %s, want the Contact sip:web@%s", bye.Recipient.String(), d.host)
	}
	if tag, _ := bye.From().Params.Get("tag"); tag != d.toTag {
		t.Errorf("BYE From tag %q, want %q", tag, d.toTag)
	}
	if tag, _ := bye.To().Params.Get("tag"); tag != d.fromTag {
		t.Errorf("BYE To tag %q, want %q", tag, d.fromTag)
	}
	if bye.CallID().Value() != d.callID || bye.Via().Transport != "WS" || !strings.HasSuffix(bye.Via().Host, ".invalid") {
		t.Errorf("BYE %s", bye)
	}
	res := sip.NewResponseFromRequest(bye, 200, "OK", nil)
	c.send(res.String())
	if !testkit.WaitFor(wait, func() bool { return e.s.Stats().Responses == 1 && e.s.Calls() == 0 }) {
		t.Errorf("stats %+v, calls %d", e.s.Stats(), e.s.Calls())
	}
}

func TestCancelBeforeAnswer(t *testing.T) {
	e := newFakeEnv(t, bridge.Config{}, Config{})
	e.fa.hold = make(chan struct{})
	c := dialSIP(t, e.url)
	d := newDialog("sip:room1@confd")
	c.send(d.invite(fakeOffer, ""))
	<-e.fa.started
	c.expectStatus(d.req("CANCEL", "", ""), sip.CANCEL, 200)
	if res := c.final(sip.INVITE); res.StatusCode != 487 {
		t.Fatalf("INVITE answered %d after CANCEL, want 487", res.StatusCode)
	}
	c.send(d.req("ACK", "", ""))
	if !testkit.WaitFor(wait, func() bool { return e.s.Calls() == 0 }) || e.s.Stats().Cancelled != 1 {
		t.Errorf("calls %d, stats %+v", e.s.Calls(), e.s.Stats())
	}
	// A CANCEL that matches nothing.
	c.expectStatus(newDialog("sip:room1@confd").req("CANCEL", "", ""), sip.CANCEL, 481)
	// A CANCEL after the 200 changes nothing.
	close(e.fa.hold)
	d2, m := e.call(t, c, "sip:room1@confd")
	d2.cseq-- // CANCEL takes the INVITE's CSeq number; the ACK did not advance it
	c.expectStatus(d2.req("CANCEL", "", ""), sip.CANCEL, 481)
	if m.closed.Load() {
		t.Error("a late CANCEL ended the call")
	}
}

func TestInviteRefusals(t *testing.T) {
	rooms := map[string]bridge.RoomSettings{
		"locked": {Locked: true},
		"secret": {PIN: "1234"},
		"full":   {Limit: 1},
	}
	e := newFakeEnv(t, bridge.Config{Rooms: rooms}, Config{RetryAfter: 7})
	if _, err := e.b.Join("full", bridge.ParticipantInfo{Name: "first"}, rtptest.NopLeg{}); err != nil {
		t.Fatal(err)
	}
	c := dialSIP(t, e.url)
	cases := []struct {
		name, ruri, extra, body string
		status                  int
		reason                  string
	}{
		{"bad room name", "sip:no.such!room@confd", "", fakeOffer, 404, "no such room"},
		{"locked", "sip:locked@confd", "", fakeOffer, 403, "locked"},
		{"full", "sip:full@confd", "", fakeOffer, 486, "full"},
		{"no PIN", "sip:secret@confd", "", fakeOffer, 403, "PIN required"},
		{"wrong PIN", "sip:secret@confd;pin=9999", "", fakeOffer, 403, "wrong PIN"},
		{"wrong PIN header", "sip:secret@confd", "X-Confd-PIN: 1\r\n", fakeOffer, 403, "wrong PIN"},
		{"PIN parameter", "sip:secret@confd;pin=1234", "", fakeOffer, 200, "OK"},
		{"PIN header", "sip:secret@confd", "X-Confd-PIN: 1234\r\n", fakeOffer, 200, "OK"},
		{"no offer", "sip:room1@confd", "", "", 488, "offer required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDialog(tc.ruri)
			res := c.expectStatus(d.invite(tc.body, tc.extra), sip.INVITE, tc.status)
			if !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("reason %q, want %q", res.Reason, tc.reason)
			}
			if tc.status == 200 {
				d.answered(res)
				c.send(d.req("ACK", "", ""))
				<-e.fa.calls
			} else {
				c.send(d.req("ACK", "", ""))
			}
		})
	}
	e.s.Drain()
	res := c.expectStatus(newDialog("sip:room1@confd").invite(fakeOffer, ""), sip.INVITE, 503)
	if h := res.GetHeader("Retry-After"); h == nil || h.Value() != "7" {
		t.Errorf("503 without Retry-After 7: %s", res)
	}
	c.expectStatus(newDialog("sip:confd").req("OPTIONS", "", ""), sip.OPTIONS, 200)
}

func TestAnswerErrors(t *testing.T) {
	cases := []struct {
		err    error
		status int
	}{
		{webrtcleg.ErrNoOpus, 488},
		{webrtcleg.ErrNotWebRTC, 488},
		{webrtcleg.ErrNoAudio, 488},
		{webrtcleg.ErrBadOffer, 400},
		{webrtcleg.ErrGathering, 503},
		{bridge.ErrRoomFull, 486},
		{errors.New("surprise"), 500},
	}
	e := newFakeEnv(t, bridge.Config{}, Config{})
	c := dialSIP(t, e.url)
	for _, tc := range cases {
		e.fa.err = tc.err
		d := newDialog("sip:room1@confd")
		res := c.expectStatus(d.invite(fakeOffer, ""), sip.INVITE, tc.status)
		if tc.status == 488 && res.GetHeader("Warning") == nil {
			t.Errorf("%v: 488 without Warning", tc.err)
		}
		c.send(d.req("ACK", "", ""))
	}
	if e.s.Calls() != 0 || e.s.Stats().Rejected != uint64(len(cases)) {
		t.Errorf("calls %d, stats %+v", e.s.Calls(), e.s.Stats())
	}
}

func TestInfoDTMF(t *testing.T) {
	e := newFakeEnv(t, bridge.Config{}, Config{})
	c := dialSIP(t, e.url)
	d, m := e.call(t, c, "sip:room1@confd")
	c.expectStatus(d.req("INFO", "Content-Type: application/dtmf-relay\r\n", "Signal=5\r\nDuration=160\r\n"), sip.INFO, 200)
	c.expectStatus(d.req("INFO", "Content-Type: application/dtmf\r\n", "#"), sip.INFO, 200)
	c.expectStatus(d.req("INFO", "Content-Type: text/plain\r\n", "5"), sip.INFO, 415)
	c.expectStatus(d.req("INFO", "Content-Type: application/dtmf-relay\r\n", "Signal=X\r\n"), sip.INFO, 400)
	c.expectStatus(d.req("INFO", "", ""), sip.INFO, 200)
	for _, want := range []byte{'5', '#'} {
		select {
		case got := <-m.digits:
			if got != want {
				t.Errorf("digit %q, want %q", got, want)
			}
		case <-time.After(wait):
			t.Fatal("no digit")
		}
	}
	if len(m.digits) != 0 {
		t.Errorf("%d more digits", len(m.digits))
	}
	other := newDialog("sip:room1@confd")
	other.toTag = "nope"
	c.expectStatus(other.req("INFO", "Content-Type: application/dtmf\r\n", "1"), sip.INFO, 481)
}

func TestMethodsAndChecks(t *testing.T) {
	e := newFakeEnv(t, bridge.Config{}, Config{})
	c := dialSIP(t, e.url)
	d := newDialog("sip:room1@confd")
	res := c.expectStatus(d.req("OPTIONS", "", ""), sip.OPTIONS, 200)
	if h := res.GetHeader("Allow"); h == nil || !strings.Contains(h.Value(), "INVITE") {
		t.Errorf("OPTIONS without Allow: %s", res)
	}
	res = c.expectStatus(d.req("MESSAGE", "", ""), sip.MESSAGE, 405)
	if res.GetHeader("Allow") == nil {
		t.Error("405 without Allow")
	}
	c.expectStatus(d.req("FROBNICATE", "", ""), "FROBNICATE", 501)
	c.expectStatus(d.req("BYE", "", ""), sip.BYE, 481)
	c.expectStatus(d.req("INFO", "", ""), sip.INFO, 481)

	dd, m := e.call(t, c, "sip:room1@confd")
	c.expectStatus(dd.invite(fakeOffer, ""), sip.INVITE, 488) // re-INVITE
	if m.closed.Load() {
		t.Error("a refused re-INVITE ended the call")
	}
	stranger := newDialog("sip:room1@confd")
	stranger.toTag = "unknown"
	c.expectStatus(stranger.invite(fakeOffer, ""), sip.INVITE, 481)

	raw := func(mutate func(string) string) string {
		return mutate(newDialog("sip:room1@confd").req("OPTIONS", "", ""))
	}
	checks := []struct {
		name   string
		msg    string
		status int
	}{
		{"version", raw(func(s string) string { return strings.Replace(s, "SIP/2.0\r\n", "SIP/7.0\r\n", 1) }), 505},
		{"cseq method", raw(func(s string) string { return strings.Replace(s, " OPTIONS\r\n", " INVITE\r\n", 1) }), 400},
		{"scheme", raw(func(s string) string { return strings.Replace(s, "OPTIONS sip:", "OPTIONS tel:", 1) }), 416},
		{"require", raw(func(s string) string { return strings.Replace(s, "Max-Forwards", "Require: foo\r\nMax-Forwards", 1) }), 420},
		{"no from", raw(func(s string) string { return strings.Replace(s, "From:", "X-From:", 1) }), 400},
		{"invite body", newDialog("sip:room1@confd").req("INVITE", "Content-Type: text/plain\r\n", "hi"), 415},
	}
	for _, tc := range checks {
		c.send(tc.msg)
		res := c.next().(*sip.Response)
		if res.StatusCode != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, res.StatusCode, res.Reason, tc.status)
		}
	}
}

func TestGarbageOversizeAndKeepAlive(t *testing.T) {
	e := newFakeEnv(t, bridge.Config{}, Config{MaxBadMessages: 3})
	c := dialSIP(t, e.url)
	c.send("\r\n\r\n")
	select {
	case pong := <-c.raw:
		if string(pong) != "\r\n" {
			t.Errorf("pong %q", pong)
		}
	case <-time.After(wait):
		t.Fatal("no CRLF pong")
	}
	c.send("INVITE this is not SIP\r\nVia: SIP/2.0/WSS x.invalid;branch=z9hG4bKx\r\n\r\n")
	res := c.next().(*sip.Response)
	if res.StatusCode != 400 || !strings.HasPrefix(res.Reason, "Bad Request (") || res.Via() == nil {
		t.Fatalf("garbage answered %d %q", res.StatusCode, res.Reason)
	}
	c.send("SIP/2.0 200 nonsense\r\n") // a broken response: dropped
	c.expectStatus(newDialog("sip:confd").req("OPTIONS", "", ""), sip.OPTIONS, 200)
	for range 4 {
		c.send("garbage")
	}
	c.waitClosed()
	if st := e.s.Stats(); st.Flooded != 1 || st.Bad != 6 {
		t.Errorf("stats %+v", st)
	}

	c2 := dialSIP(t, e.url)
	c2.send(newDialog("sip:confd").req("OPTIONS", "X-Pad: "+strings.Repeat("a", 70<<10)+"\r\n", ""))
	c2.waitClosed()
	if e.s.Stats().Oversize != 1 {
		t.Errorf("stats %+v", e.s.Stats())
	}
}

func TestConnectionCloseEndsCalls(t *testing.T) {
	e := newFakeEnv(t, bridge.Config{}, Config{})
	c := dialSIP(t, e.url)
	_, m1 := e.call(t, c, "sip:room1@confd")
	_, m2 := e.call(t, c, "sip:room2@confd")
	e.fa.hold = make(chan struct{}) // a third call still being answered
	c.send(newDialog("sip:room3@confd").invite(fakeOffer, ""))
	<-e.fa.started
	c.close()
	if !testkit.WaitFor(wait, func() bool { return m1.closed.Load() && m2.closed.Load() && e.s.Calls() == 0 }) {
		t.Fatalf("calls %d after the connection closed", e.s.Calls())
	}
}

func TestAckTimeoutSendsBye(t *testing.T) {
	e := newFakeEnv(t, bridge.Config{}, Config{AckTimeout: 50 * time.Millisecond})
	c := dialSIP(t, e.url)
	d := newDialog("sip:room1@confd")
	c.expectStatus(d.invite(fakeOffer, ""), sip.INVITE, 200)
	m := <-e.fa.calls
	c.request(sip.BYE)
	if !testkit.WaitFor(wait, func() bool { return m.closed.Load() }) {
		t.Fatal("the unacknowledged call was not closed")
	}
}

func TestShutdownByesEveryCall(t *testing.T) {
	base := runtime.NumGoroutine()
	e := newFakeEnv(t, bridge.Config{}, Config{})
	c := dialSIP(t, e.url)
	_, m := e.call(t, c, "sip:room1@confd")
	e.fa.hold = make(chan struct{})
	pending := newDialog("sip:room2@confd")
	c.send(pending.invite(fakeOffer, ""))
	<-e.fa.started
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := e.s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	var sawBye, saw503 bool
	for !sawBye || !saw503 {
		switch msg := c.next().(type) {
		case *sip.Request:
			sawBye = sawBye || msg.Method == sip.BYE
		case *sip.Response:
			saw503 = saw503 || msg.StatusCode == 503
		}
	}
	c.waitClosed()
	if !m.closed.Load() || e.s.Calls() != 0 {
		t.Errorf("after shutdown: media closed %v, calls %d", m.closed.Load(), e.s.Calls())
	}
	if _, _, _, err := (ws.Dialer{Protocols: []string{"sip"}, Timeout: wait}).Dial(context.Background(), e.url); err == nil {
		t.Error("a connection was accepted after shutdown")
	}
	testkit.CheckGoroutines(t, base+3)
}

func TestSecureWebSocketUsesWSS(t *testing.T) {
	fa := newFakeAnswerer()
	b := bridge.New(bridge.Config{})
	defer b.Close()
	s := newServer(b, Config{}, fa.answer)
	hs := httptest.NewTLSServer(s)
	defer hs.Close()
	defer func() { _ = s.Shutdown(context.Background()) }()
	d := ws.Dialer{Protocols: []string{"sip"}, Timeout: wait, TLSConfig: hs.Client().Transport.(*http.Transport).TLSClientConfig}
	c := dialSIPWith(t, d, "wss"+strings.TrimPrefix(hs.URL, "https")+"/sip")
	dl := newDialog("sip:room1@confd")
	res := c.expectStatus(dl.invite(fakeOffer, ""), sip.INVITE, 200)
	dl.answered(res)
	c.send(dl.req("ACK", "", ""))
	(<-fa.calls).end()
	if bye := c.request(sip.BYE); bye.Via().Transport != "WSS" {
		t.Errorf("BYE over wss:// has Via transport %q", bye.Via().Transport)
	}
}

// jssipRegister is a REGISTER as JsSIP 3.10 writes it (RFC 5626 instance and reg-id, RFC 5245
// +sip.ice feature tag).
const jssipRegister = "REGISTER sip:confd SIP/2.0\r\n" +
	"Via: SIP/2.0/WSS 2nc6pl3tg6dv.invalid;branch=z9hG4bK5956891\r\n" +
	"Max-Forwards: 69\r\n" +
	"To: <sip:alice@confd>\r\n" +
	"From: \"Alice\" <sip:alice@confd>;tag=6ekh0sd4ca\r\n" +
	"Call-ID: 47p0gsa5osu0u1sdql2m3a\r\n" +
	"CSeq: 1 REGISTER\r\n" +
	"Contact: <sip:ufv8a3ku@2nc6pl3tg6dv.invalid;transport=ws>;+sip.ice;reg-id=1;+sip.instance=\"<urn:uuid:d3a1a9ff-1d19-4bb5-9e55-3b3a5e2a7b1c>\";expires=600\r\n" +
	"Expires: 600\r\n" +
	"Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY\r\n" +
	"Supported: path,gruu,outbound\r\n" +
	"User-Agent: JsSIP 3.10.0\r\n" +
	"Content-Length: 0\r\n\r\n"

func TestJsSIPRegister(t *testing.T) {
	e := newFakeEnv(t, bridge.Config{}, Config{})
	c := dialSIP(t, e.url)
	res := c.expectStatus(jssipRegister, sip.REGISTER, 200)
	ct := res.Contact()
	if ct == nil || ct.Address.User != "ufv8a3ku" {
		t.Fatalf("Contact %v", ct)
	}
	if exp, _ := ct.Params.Get("expires"); exp != "600" {
		t.Errorf("expires %q, want 600", exp)
	}
	if inst, _ := ct.Params.Get("+sip.instance"); !strings.Contains(inst, "urn:uuid:d3a1a9ff") {
		t.Errorf("+sip.instance %q not echoed", inst)
	}
}

func TestCallsPerConnectionLimited(t *testing.T) {
	e := newFakeEnv(t, bridge.Config{}, Config{MaxCalls: 2})
	c := dialSIP(t, e.url)
	e.call(t, c, "sip:room1@confd")
	e.call(t, c, "sip:room2@confd")
	c.expectStatus(newDialog("sip:room3@confd").invite(fakeOffer, ""), sip.INVITE, 486)
	e.call(t, dialSIP(t, e.url), "sip:room3@confd") // another connection is not affected
}

func TestFragmentedAndBinaryMessages(t *testing.T) {
	e := newFakeEnv(t, bridge.Config{}, Config{})
	c := dialSIP(t, e.url)
	msg := []byte(newDialog("sip:confd").req("OPTIONS", "", ""))
	// One SIP message in two frames, with a ping between them (RFC 6455 section 5.4).
	frames := []ws.Frame{
		ws.NewFrame(ws.OpText, false, msg[:40]),
		ws.NewPingFrame([]byte("hi")),
		ws.NewFrame(ws.OpContinuation, true, msg[40:]),
	}
	c.wmu.Lock()
	for _, f := range frames {
		if err := ws.WriteFrame(c.conn, ws.MaskFrameInPlace(f)); err != nil {
			t.Fatal(err)
		}
	}
	c.wmu.Unlock()
	if res := c.final(sip.OPTIONS); res.StatusCode != 200 {
		t.Fatalf("fragmented OPTIONS answered %d", res.StatusCode)
	}
	// A binary frame holds a SIP message too (RFC 7118 section 5.1).
	c.wmu.Lock()
	err := wsutil.WriteClientBinary(c.conn, []byte(newDialog("sip:confd").req("OPTIONS", "", "")))
	c.wmu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if res := c.final(sip.OPTIONS); res.StatusCode != 200 {
		t.Fatalf("binary OPTIONS answered %d", res.StatusCode)
	}
}

// TestNewResponseReasonIsPrintable: an error's text in a reason phrase (a 400's "Bad Request
// (...)") cannot break the status line of an answer over WebSocket (sipua.Reason).
func TestNewResponseReasonIsPrintable(t *testing.T) {
	m, err := sip.ParseMessage([]byte("INFO sip:room@confd.invalid SIP/2.0\r\nVia: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK1\r\n" +
		"From: <sip:a@confd.invalid>;tag=1\r\nTo: <sip:room@confd.invalid>;tag=2\r\nCall-ID: c1\r\nCSeq: 2 INFO\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	req := m.(*sip.Request)
	line, _, _ := strings.Cut(newResponse(req, 400, "Bad Request (a\r\nInjected: 1)").String(), "\r\n")
	if line != "SIP/2.0 400 Bad Request (a  Injected: 1)" {
		t.Fatalf("status line %q", line)
	}
}
