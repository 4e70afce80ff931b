package sipws

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"confd/bridge"
	"confd/internal/guard"
	"confd/testkit"
)

// The tests of issue 8 ("safe on a public address") for SIP over WebSocket: each attacks /sip
// as the issue describes and checks that the attack gets nowhere while others are served.

// fromAddr dials from the loopback address src (127.0.0.2 is another source than 127.0.0.1).
func fromAddr(src string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: wait}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
}

// dialFrom opens a SIP WebSocket from the loopback address src.
func dialFrom(t *testing.T, url, src string) *wsClient {
	t.Helper()
	return dialSIPWith(t, ws.Dialer{Protocols: []string{"sip"}, Timeout: wait, NetDial: fromAddr(src)}, url)
}

// upgrade sends a WebSocket handshake for /sip from the loopback address src with Origin
// origin ("" for none) and returns the answer. A 101's connection stays open until the test
// ends or its Body is closed.
func upgrade(t *testing.T, e *fakeEnv, src, origin string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.hs.URL+"/sip", nil)
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", base64.StdEncoding.EncodeToString(key))
	req.Header.Set("Sec-WebSocket-Protocol", "sip")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	tr := &http.Transport{DialContext: fromAddr(src), DisableKeepAlives: true, ResponseHeaderTimeout: wait}
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = res.Body.Close() })
	return res
}

// refused checks that res is a refusal with status, a JSON error and, when retry, a
// Retry-After.
func refused(t *testing.T, res *http.Response, status int, retry bool) {
	t.Helper()
	var body struct{ Error string }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body.Error == "" {
		t.Errorf("refusal body: %v %+v", err, body)
	}
	if res.StatusCode != status {
		t.Fatalf("handshake answered %d (%s), want %d", res.StatusCode, body.Error, status)
	}
	if got := res.Header.Get("Retry-After"); retry != (got != "") {
		t.Errorf("Retry-After %q", got)
	}
}

// released waits until the server has let go of every connection (its goroutine has
// returned) and returns the stats then.
func (e *fakeEnv) released(t *testing.T) Stats {
	t.Helper()
	if !testkit.WaitFor(wait, func() bool { return e.s.Stats().Connections == 0 }) {
		t.Error("the server kept a closed connection")
	}
	return e.s.Stats()
}

// frozen is a clock that does not move: guesses come faster than any delay passes.
func frozen() Option {
	at := time.Unix(1_000_000_000, 0)
	return WithClock(func() time.Time { return at })
}

// pinOutcome counts how the answers to PIN guesses went.
type pinOutcome struct{ checked, lockedOut, rateLimited int }

// guess sends n INVITEs with wrong PINs for room secret (PIN 4321), by turns as ;pin= and as
// X-Confd-PIN, the first half over conns[0] and the rest spread over the others, and sorts
// the answers. Every refusal that did not check the PIN must say when to try again.
func guess(t *testing.T, conns []*wsClient, n int) pinOutcome {
	t.Helper()
	var out pinOutcome
	for i := range n {
		c := conns[0]
		if i >= n/2 && len(conns) > 1 {
			c = conns[1+i%(len(conns)-1)]
		}
		pin := fmt.Sprintf("%04d", i) // never 4321
		ruri, extra := "sip:secret@confd;pin="+pin, ""
		if i%2 == 1 {
			ruri, extra = "sip:secret@confd", "X-Confd-PIN: "+pin+"\r\n"
		}
		c.send(newDialog(ruri).invite(fakeOffer, extra))
		res := c.final(sip.INVITE)
		ra := res.GetHeader("Retry-After")
		switch {
		case res.StatusCode == 403 && res.Reason == "Forbidden (wrong PIN)":
			out.checked++
		case res.StatusCode == 403 && res.Reason == "Forbidden (too many PIN attempts)" && ra != nil && ra.Value() != "0":
			out.lockedOut++
		case res.StatusCode == 503 && res.Reason == rateLimitedReason && ra != nil && ra.Value() != "0":
			out.rateLimited++
		default:
			t.Fatalf("guess %d answered %s", i, res.Short())
		}
	}
	return out
}

// TestPINGuessesThrottled is issue 8 item 1 over SIP over WebSocket: 200 wrong PIN guesses
// from one source, over one connection and over several, get the PIN checked only a handful
// of times; the other tries are refused unchecked (403 "too many PIN attempts", or 503 once
// the source's request rate is spent), each with Retry-After. The guessing source is refused
// even with the right PIN, while another source gets into the room (and another room) at once.
func TestPINGuessesThrottled(t *testing.T) {
	rooms := map[string]bridge.RoomSettings{"secret": {PIN: "4321"}, "other": {PIN: "1111"}}
	const free = 5 // guard.AttemptsConfig's default Free: wrong PINs before the first delay
	t.Run("PIN attempts", func(t *testing.T) {
		// A high request rate lets every guess reach the PIN check: guard.Attempts alone stops them.
		e := newFakeEnv(t, bridge.Config{Rooms: rooms}, Config{RequestRate: 1000}, frozen())
		conns := []*wsClient{dialSIP(t, e.url)}
		for range 4 {
			conns = append(conns, dialSIP(t, e.url))
		}
		out := guess(t, conns, 200)
		t.Logf("200 guesses: %+v", out)
		if out.checked != free || out.lockedOut != 200-free {
			t.Errorf("PINs checked %d, refused unchecked %d; want %d and %d", out.checked, out.lockedOut, free, 200-free)
		}
		if st := e.s.Stats(); st.PINWrong != uint64(out.checked) || st.PINLockedOut != uint64(out.lockedOut) {
			t.Errorf("stats %+v", st)
		}
		// The right PIN is not even looked at now.
		res := conns[0].expectStatus(newDialog("sip:secret@confd;pin=4321").invite(fakeOffer, ""), sip.INVITE, 403)
		if res.Reason != "Forbidden (too many PIN attempts)" {
			t.Errorf("right PIN from the guessing source: %s", res.Short())
		}
		// Another source is not slowed: its wrong PIN is checked, its right PINs let it in.
		other := dialFrom(t, e.url, "127.0.0.2")
		if res := other.expectStatus(newDialog("sip:secret@confd;pin=0000").invite(fakeOffer, ""), sip.INVITE, 403); res.Reason != "Forbidden (wrong PIN)" {
			t.Errorf("another source's wrong PIN: %s", res.Short())
		}
		e.call(t, other, "sip:secret@confd;pin=4321")
		e.call(t, other, "sip:other@confd;pin=1111")
	})
	t.Run("request rate", func(t *testing.T) {
		// With the default request rate (5 a second, bursts of 20) most guesses are refused at
		// the door, before the room is looked at.
		e := newFakeEnv(t, bridge.Config{Rooms: rooms}, Config{}, frozen())
		conns := []*wsClient{dialSIP(t, e.url), dialSIP(t, e.url), dialSIP(t, e.url)}
		out := guess(t, conns, 200)
		t.Logf("200 guesses: %+v", out)
		if out.checked != free || out.checked+out.lockedOut != 20 || out.rateLimited != 180 {
			t.Errorf("%+v: want %d checked, 20 past the request rate", out, free)
		}
		if st := e.s.Stats(); st.RateLimited != uint64(out.rateLimited) {
			t.Errorf("stats %+v", st)
		}
		// A REGISTER (a digest password guess) draws on the same spent rate.
		res := conns[0].expectStatus(newDialog("sip:confd").req("REGISTER", "", ""), sip.REGISTER, 503)
		if ra := res.GetHeader("Retry-After"); ra == nil || res.Reason != rateLimitedReason {
			t.Errorf("REGISTER over the rate: %s", res)
		}
		other := dialFrom(t, e.url, "127.0.0.2")
		other.expectStatus(newDialog("sip:confd").req("REGISTER", "", ""), sip.REGISTER, 200)
		e.call(t, other, "sip:secret@confd;pin=4321")
	})
}

// TestBadOfferHidesPIN is the other half of item 1: with a bad offer (none, malformed, not
// WebRTC, without Opus) the right PIN is answered exactly as a wrong one, so a guesser cannot
// use cheap bad offers to test PINs; no PIN is even checked. With a good offer the verdict
// shows.
func TestBadOfferHidesPIN(t *testing.T) {
	e := newFakeEnv(t, bridge.Config{Rooms: map[string]bridge.RoomSettings{"secret": {PIN: "4321"}}}, Config{})
	c := dialSIP(t, e.url)
	offers := map[string]string{
		"none":       "",
		"malformed":  "v=0\r\nthis is not SDP\r\n",
		"not WebRTC": "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
		"no Opus":    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\n",
	}
	describe := func(res *sip.Response) string {
		s := fmt.Sprintf("%d %s", res.StatusCode, res.Reason)
		for _, name := range []string{"Warning", "Retry-After", "Content-Type"} {
			if h := res.GetHeader(name); h != nil {
				s += " | " + name + ": " + h.Value()
			}
		}
		return s + fmt.Sprintf(" | %d bytes", len(res.Body()))
	}
	for name, offer := range offers {
		var answers []string
		for _, pin := range []string{"4321", "0000"} {
			d := newDialog("sip:secret@confd;pin=" + pin)
			msg := d.req("INVITE", "", "")
			if offer != "" {
				msg = d.invite(offer, "")
			}
			c.send(msg)
			res := c.final(sip.INVITE)
			if res.StatusCode < 400 {
				t.Fatalf("%s offer, PIN %s: %s", name, pin, res.Short())
			}
			answers = append(answers, describe(res))
		}
		if answers[0] != answers[1] {
			t.Errorf("%s offer: right PIN answered %q, wrong PIN %q", name, answers[0], answers[1])
		}
	}
	if st := e.s.Stats(); st.PINWrong != 0 || st.PINLockedOut != 0 {
		t.Errorf("a PIN was checked with a bad offer: %+v", st)
	}
	c.expectStatus(newDialog("sip:secret@confd;pin=0000").invite(fakeOffer, ""), sip.INVITE, 403)
	e.call(t, c, "sip:secret@confd;pin=4321")
}

// TestRoomTokenIn200 is the sipws side of item 6's contract: the 200 OK to an INVITE carries
// X-Confd-Room-Token from Config.RoomToken for the room joined; refusals never do, and without
// the hook (or with an empty token) there is no header.
func TestRoomTokenIn200(t *testing.T) {
	mint := func(room string) string {
		if room == "untokened" {
			return ""
		}
		return "tok-" + room
	}
	rooms := map[string]bridge.RoomSettings{"locked": {Locked: true}}
	e := newFakeEnv(t, bridge.Config{Rooms: rooms}, Config{RoomToken: mint})
	c := dialSIP(t, e.url)
	token := func(res *sip.Response) string {
		if h := res.GetHeader("X-Confd-Room-Token"); h != nil {
			return h.Value()
		}
		return ""
	}
	d := newDialog("sip:room1@confd")
	res := c.expectStatus(d.invite(fakeOffer, ""), sip.INVITE, 200)
	if got := token(res); got != "tok-room1" {
		t.Errorf("200 token %q, want tok-room1", got)
	}
	d.answered(res)
	c.send(d.req("ACK", "", ""))
	if got := token(c.expectStatus(newDialog("sip:locked@confd").invite(fakeOffer, ""), sip.INVITE, 403)); got != "" {
		t.Errorf("a refusal carries token %q", got)
	}
	if got := token(c.expectStatus(newDialog("sip:untokened@confd").invite(fakeOffer, ""), sip.INVITE, 200)); got != "" {
		t.Errorf("empty token sent as %q", got)
	}
	e2 := newFakeEnv(t, bridge.Config{}, Config{})
	if got := token(dialSIP(t, e2.url).expectStatus(newDialog("sip:room1@confd").invite(fakeOffer, ""), sip.INVITE, 200)); got != "" {
		t.Errorf("token %q without the hook", got)
	}
}

// TestForeignOriginRefused is issue 8 item 14: a page on another site cannot open /sip in its
// visitor's browser (cross-site WebSocket hijacking): 403, nothing upgraded. The page's own
// origin (whatever the scheme: TLS may end at a proxy), an allowed origin and a client that
// sends no Origin (not a browser) are served.
func TestForeignOriginRefused(t *testing.T) {
	e := newFakeEnv(t, bridge.Config{}, Config{AllowedOrigins: []string{"https://App.example.com"}})
	host := strings.TrimPrefix(e.hs.URL, "http://")
	_, port, _ := net.SplitHostPort(host)
	for _, origin := range []string{"https://evil.example", "http://evil.example:" + port, "null",
		"http://127.0.0.1:1", "https://app.example.com:8443", "http://app.example.com.evil.example"} {
		refused(t, upgrade(t, e, "127.0.0.1", origin), http.StatusForbidden, false)
	}
	if st := e.s.Stats(); st.ForeignOrigin != 6 || st.ConnectionsTotal != 0 {
		t.Errorf("stats %+v", st)
	}
	for _, origin := range []string{"", "http://" + host, "https://" + host, "HTTP://" + strings.ToUpper(host), "https://app.example.com", "https://app.example.com:443"} {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		c := dialSIPWith(t, ws.Dialer{Protocols: []string{"sip"}, Timeout: wait, Header: ws.HandshakeHeaderHTTP(h)}, e.url)
		c.expectStatus(newDialog("sip:confd").req("OPTIONS", "", ""), sip.OPTIONS, 200)
		c.close()
	}
}

// TestConnectionCapsPerSource is issue 8 item 13's connection caps: one source holds at most
// ConnsPerSource connections and opens them at most at UpgradeRate (429 with Retry-After
// beyond, nothing upgraded), everyone together MaxConns (503); meanwhile another source
// connects and is served, and a closed connection gives its place back.
func TestConnectionCapsPerSource(t *testing.T) {
	t.Run("held", func(t *testing.T) {
		e := newFakeEnv(t, bridge.Config{}, Config{ConnsPerSource: 3, MaxConns: 5})
		var held []*http.Response
		for range 3 {
			res := upgrade(t, e, "127.0.0.1", "")
			if res.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("upgrade answered %d", res.StatusCode)
			}
			held = append(held, res)
		}
		refused(t, upgrade(t, e, "127.0.0.1", ""), http.StatusTooManyRequests, true)
		other := dialFrom(t, e.url, "127.0.0.2")
		other.expectStatus(newDialog("sip:confd").req("OPTIONS", "", ""), sip.OPTIONS, 200)
		if res := upgrade(t, e, "127.0.0.2", ""); res.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("second connection of another source answered %d", res.StatusCode)
		}
		refused(t, upgrade(t, e, "127.0.0.3", ""), http.StatusServiceUnavailable, true) // 5 in all
		_ = held[0].Body.Close()
		src := guard.SourceAddr("127.0.0.1")
		if !testkit.WaitFor(wait, func() bool { n, _ := e.s.admit.Held(src); return n == 2 }) {
			t.Fatal("a closed connection kept its place")
		}
		if res := upgrade(t, e, "127.0.0.1", ""); res.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade after a close answered %d", res.StatusCode)
		}
		if !testkit.WaitFor(wait, func() bool { return e.s.Stats().Connections == 5 }) || e.s.Stats().ConnLimited != 2 {
			t.Errorf("stats %+v", e.s.Stats())
		}
	})
	t.Run("messages", func(t *testing.T) {
		// A source that sends more messages than Config.MessageRate allows (here 10 a second,
		// bursts of 100) has its connection closed; another source is answered meanwhile.
		e := newFakeEnv(t, bridge.Config{}, Config{MessageRate: 10})
		conn, _, _, err := ws.Dialer{Protocols: []string{"sip"}, Timeout: wait}.Dial(context.Background(), e.url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		closed := make(chan struct{})
		go func() { // reads the answers, unread, until the server closes the connection
			defer close(closed)
			for {
				if _, _, err := wsutil.ReadServerData(conn); err != nil {
					return
				}
			}
		}()
		msg := []byte(newDialog("sip:confd").req("OPTIONS", "", ""))
		for range 300 {
			if wsutil.WriteClientText(conn, msg) != nil {
				break // closed under the flood
			}
		}
		select {
		case <-closed:
		case <-time.After(wait):
			t.Fatal("the flooding connection is still open")
		}
		if st := e.released(t); st.Flooded != 1 || st.Requests > 150 { // bursts of 100, 10 a second after
			t.Errorf("stats %+v", st)
		}
		dialFrom(t, e.url, "127.0.0.2").expectStatus(newDialog("sip:confd").req("OPTIONS", "", ""), sip.OPTIONS, 200)
	})
	t.Run("rate", func(t *testing.T) {
		e := newFakeEnv(t, bridge.Config{}, Config{UpgradeRate: 1}, frozen()) // bursts of 4
		for range 4 {
			c := dialSIP(t, e.url)
			c.close()
		}
		refused(t, upgrade(t, e, "127.0.0.1", ""), http.StatusTooManyRequests, true)
		dialFrom(t, e.url, "127.0.0.2").expectStatus(newDialog("sip:confd").req("OPTIONS", "", ""), sip.OPTIONS, 200)
	})
}

// TestSilentAndSlowConnectionsClosed is issue 8 item 13's deadlines: a connection that sends
// half a frame is closed once the message deadline passes (1008), one that sends nothing once
// the idle deadline passes (1000). A call or a registration keeps a silent connection (a
// browser in a call sends nothing) until it ends, and keep-alives (RFC 5626 CRLF, WebSocket
// pings) keep an idle one.
func TestSilentAndSlowConnectionsClosed(t *testing.T) {
	const idle = 300 * time.Millisecond
	limits := func(idle time.Duration) Config {
		return Config{IdleTimeout: idle, MessageTimeout: 100 * time.Millisecond}
	}
	t.Run("half a frame", func(t *testing.T) {
		t.Parallel()
		e := newFakeEnv(t, bridge.Config{}, limits(idle))
		c := dialSIP(t, e.url)
		hdr := ws.Header{Fin: true, OpCode: ws.OpText, Masked: true, Mask: ws.NewMask(), Length: 200}
		part := []byte("INVITE sip:") // of 200 bytes announced
		ws.Cipher(part, hdr.Mask, 0)
		c.wmu.Lock()
		err := ws.WriteHeader(c.conn, hdr)
		if err == nil {
			_, err = c.conn.Write(part)
		}
		c.wmu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		c.waitClosed()
		if st := e.released(t); st.Slow != 1 || st.Idle != 0 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("silence", func(t *testing.T) {
		t.Parallel()
		e := newFakeEnv(t, bridge.Config{}, limits(idle))
		dialSIP(t, e.url).waitClosed()
		if st := e.released(t); st.Idle != 1 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("call", func(t *testing.T) {
		t.Parallel()
		e := newFakeEnv(t, bridge.Config{}, limits(idle))
		c := dialSIP(t, e.url)
		d, _ := e.call(t, c, "sip:room1@confd")
		// A connection opened after the call's last message goes idle after the call's own
		// idle deadline has passed.
		dialSIP(t, e.url).waitClosed()
		c.expectStatus(d.req("INFO", "", ""), sip.INFO, 200) // the call's connection is still there
		byeAt := time.Now()
		c.expectStatus(d.req("BYE", "", ""), sip.BYE, 200)
		c.waitClosed()
		if since := time.Since(byeAt); since < idle {
			t.Errorf("closed %v after the call ended, before the idle timeout", since)
		}
		if st := e.s.Stats(); st.Idle != 2 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("registration", func(t *testing.T) {
		t.Parallel()
		e := newFakeEnv(t, bridge.Config{}, limits(idle))
		c := dialSIP(t, e.url)
		regAt := time.Now()
		c.expectStatus(newDialog("sip:confd").req("REGISTER", "Expires: 1\r\n", ""), sip.REGISTER, 200)
		c.waitClosed()
		if since := time.Since(regAt); since < time.Second+idle {
			t.Errorf("closed %v after a 1 s registration, before it expired and the idle timeout passed", since)
		}
	})
	t.Run("keep-alives", func(t *testing.T) {
		t.Parallel()
		const idle = 600 * time.Millisecond
		e := newFakeEnv(t, bridge.Config{}, limits(idle))
		c := dialSIP(t, e.url)
		for i := range 3 * int(idle/(50*time.Millisecond)) {
			time.Sleep(50 * time.Millisecond) // paces the keep-alives, well within the idle timeout
			if i%4 == 3 {
				c.wmu.Lock()
				err := ws.WriteFrame(c.conn, ws.MaskFrameInPlace(ws.NewPingFrame([]byte("ka"))))
				c.wmu.Unlock()
				if err != nil {
					t.Fatal(err)
				}
				continue
			}
			c.send("\r\n\r\n")
			select {
			case <-c.raw: // the CRLF pong
			case <-c.done:
				t.Fatalf("closed after %d keep-alives", i)
			}
		}
		c.expectStatus(newDialog("sip:confd").req("OPTIONS", "", ""), sip.OPTIONS, 200)
		if st := e.s.Stats(); st.Idle != 0 {
			t.Errorf("stats %+v", st)
		}
	})
}

// The WebRTC leg's session caps (a *guard.Refusal) reach a SIP-over-WebSocket caller as 503 with
// the refusal's Retry-After, like the other overload answers, and the call's JoinInfo names its
// WebSocket peer so that those caps count it.
func TestSessionCapRefusalAnswers503(t *testing.T) {
	for _, sentinel := range []error{guard.ErrRateLimited, guard.ErrSourceBusy, guard.ErrFull} {
		r := (&Server{}).refusalOf(&guard.Refusal{Err: sentinel, RetryAfter: 7 * time.Second})
		if r.Status != 503 || len(r.Headers) != 1 || r.Headers[0].Value() != "7" {
			t.Errorf("%v: %d %v, want 503 with Retry-After 7", sentinel, r.Status, r.Headers)
		}
	}
	if info := joinInfo("n", "sip:a@b", "192.0.2.1:5000", false); info.Remote != "192.0.2.1:5000" {
		t.Errorf("JoinInfo.Remote %q", info.Remote)
	}
}

// rateLimitedReason is the reason phrase of a 503 over the source's request rate: the table's
// (bridge.StatusOf) answer to guard.ErrRateLimited.
var rateLimitedReason = func() string {
	st, _ := bridge.StatusOf(guard.ErrRateLimited)
	return st.Reason
}()

// TestCapturedDigestOpensNoOtherRoom is issue 8 item 12 over WebSocket: an Authorization that
// got one INVITE in, sent again with new Call-IDs to other rooms or to the same one, gets 401
// each time, with SHA-256 and MD5 challenges.
func TestCapturedDigestOpensNoOtherRoom(t *testing.T) {
	e := newFakeEnv(t, bridge.Config{}, Config{Auth: restricted})
	c := dialSIP(t, e.url)
	res := c.expectStatus(newDialog("sip:room1@confd").invite(fakeOffer, ""), sip.INVITE, 401)
	if hs := res.GetHeaders("WWW-Authenticate"); len(hs) != 2 {
		t.Fatalf("challenges %v: want SHA-256 and MD5", hs)
	}
	captured := authorize(t, res, "INVITE", "sip:room1@confd", "ada", "pw")
	d := newDialog("sip:room1@confd")
	d.answered(c.expectStatus(d.invite(fakeOffer, captured), sip.INVITE, 200))
	c.send(d.req("ACK", "", ""))
	for _, ruri := range []string{"sip:room2@confd", "sip:room3@confd", "sip:room1@confd"} {
		c.expectStatus(newDialog(ruri).invite(fakeOffer, captured), sip.INVITE, 401)
	}
}
