package sipleg

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"confd/bridge"
	"confd/internal/guard"
	"confd/sdpneg"
	"confd/testkit"
)

// peerUA is a small sipgo user agent in the test: a registrar or a callee that demands digest
// authentication (401 or 407) before it accepts.
type peerUA struct {
	ua    *sipgo.UserAgent
	srv   *sipgo.Server
	addr  string
	chal  *digest.Challenge
	user  string
	pass  string
	proxy bool // challenge with 407 Proxy-Authenticate instead of 401

	serve func()

	registers, unregisters, challenged atomic.Int32
}

func startPeerUA(t *testing.T, proxy bool) *peerUA {
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("peer"))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := sipgo.NewServer(ua, sipgo.WithServerLogger(quietLogger()))
	l, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &peerUA{ua: ua, srv: srv, addr: l.LocalAddr().String(), user: "alice", pass: "secret", proxy: proxy,
		chal: &digest.Challenge{Realm: "peer", Nonce: "n0nce", Algorithm: "MD5"}}
	p.serve = func() { go srv.ServeUDP(l) } // after the handlers are set: sipgo's table is not locked
	t.Cleanup(func() { l.Close(); srv.Close(); ua.Close() })
	return p
}

// authorized checks the request's credentials, or answers the challenge.
func (p *peerUA) authorized(req *sip.Request, tx sip.ServerTransaction) bool {
	hdr, chalHdr, code := "Authorization", "WWW-Authenticate", 401
	if p.proxy {
		hdr, chalHdr, code = "Proxy-Authorization", "Proxy-Authenticate", 407
	}
	if h := req.GetHeader(hdr); h != nil {
		cred, err := digest.ParseCredentials(h.Value())
		if err == nil {
			want, err := digest.Digest(p.chal, digest.Options{Method: req.Method.String(), URI: cred.URI, Username: p.user, Password: p.pass})
			if err == nil && want.Response == cred.Response {
				return true
			}
		}
	}
	p.challenged.Add(1)
	res := sip.NewResponseFromRequest(req, code, "Authenticate", nil)
	res.AppendHeader(sip.NewHeader(chalHdr, p.chal.String()))
	tx.Respond(res)
	return false
}

func TestRegistrationWithDigestRefreshAndWithdraw(t *testing.T) {
	reg := startPeerUA(t, false)
	reg.srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		if !reg.authorized(req, tx) {
			return
		}
		if h := req.GetHeader("Expires"); h != nil && h.Value() == "0" {
			reg.unregisters.Add(1)
		} else {
			reg.registers.Add(1)
		}
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		res.AppendHeader(sip.NewHeader("Expires", "1")) // the registrar grants 1 s: refresh soon
		tx.Respond(res)
	})
	reg.serve()
	ts := startServer(t, Config{Register: []Registration{{Registrar: "sip:" + reg.addr, User: "alice", Password: "secret",
		Expiry: time.Hour}}}, nil)
	testkit.Eventually(t, 5*time.Second, "no registration, or no refresh of it", func() bool { // registered, then refreshed
		st := ts.Registrations()
		return reg.registers.Load() >= 2 && len(st) == 1 && st[0].Refreshes >= 2 && st[0].Registered
	})
	if reg.challenged.Load() == 0 {
		t.Fatal("the registrar never challenged")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ts.Shutdown(ctx)
	if reg.unregisters.Load() != 1 {
		t.Fatalf("%d unregisters, want 1", reg.unregisters.Load())
	}
}

func TestDialOutAnswersProxyChallengeAndJoins(t *testing.T) {
	callee := startPeerUA(t, true)
	ports := testAllocator(t)
	var mu sync.Mutex
	var calleeMedia *MediaSocket
	client, _ := sipgo.NewClient(callee.ua)
	host, portStr, _ := net.SplitHostPort(callee.addr)
	_ = portStr
	dialogs := sipgo.NewDialogServerCache(client, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "bob", Host: host, Port: int(netip.MustParseAddrPort(callee.addr).Port())}})
	callee.srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		if !callee.authorized(req, tx) {
			return
		}
		dlg, err := dialogs.ReadInvite(req, tx)
		if err != nil {
			return
		}
		m, _ := ports.Open()
		mu.Lock()
		calleeMedia = m
		mu.Unlock()
		_, answer, err := sdpneg.Answer(req.Body(), sdpneg.Local{Addr: netip.MustParseAddr("127.0.0.1"), Port: m.Port(), Codecs: nil})
		if err != nil {
			dlg.Respond(488, "Not Acceptable Here", nil)
			return
		}
		dlg.Respond(180, "Ringing", nil)
		dlg.RespondSDP(answer)
	})
	callee.srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { dialogs.ReadAck(req, tx) })
	callee.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) { dialogs.ReadBye(req, tx) })
	callee.serve()

	ts := startServer(t, Config{Credentials: []Credential{{Realm: "peer", Host: "127.0.0.1", User: "alice", Password: "secret"}}, DialIn: []string{"1000"}}, nil)
	sub := ts.bridge.Bus().Subscribe("dialroom", 64, "")
	defer sub.Close()
	if _, err := ts.DialOut(context.Background(), "1000", "sip:bob@"+callee.addr); err == nil {
		t.Fatal("a dial-in number dialled out")
	}
	if _, err := ts.DialOut(context.Background(), "dialroom", "mailto:bob"); err == nil {
		t.Fatal("a mailto: URI was dialled")
	}
	id, err := ts.DialOut(context.Background(), "dialroom", "sip:bob@"+callee.addr)
	if err != nil {
		t.Fatal(err)
	}
	statuses := awaitAnswered(t, sub, id)
	if callee.challenged.Load() == 0 {
		t.Fatal("the callee never challenged")
	}
	if participants(ts, "dialroom") != 1 {
		t.Fatal("the callee did not join")
	}
	t.Logf("dial events: %v", statuses)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ts.Shutdown(ctx)
	waitIdle(t, ts)
	mu.Lock()
	if calleeMedia != nil {
		calleeMedia.Close()
	}
	mu.Unlock()
}

// awaitAnswered reads the dial events of call id until it is answered and returns the statuses
// they reported; a failure or 10 s without an answer fails the test.
func awaitAnswered(t *testing.T, sub *bridge.Subscription, id string) []any {
	t.Helper()
	statuses, last := awaitDialEnd(t, sub, id)
	if last["state"] != "answered" {
		t.Fatalf("dial failed: %v", last)
	}
	return statuses
}

// awaitDialEnd reads the dial events of call id until it is answered or fails, and returns the
// statuses they reported and the last event's data; 10 s without either fails the test.
func awaitDialEnd(t *testing.T, sub *bridge.Subscription, id string) ([]any, map[string]any) {
	t.Helper()
	var statuses []any
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-sub.C:
			if e.Type == bridge.EventDial && e.Data["id"] == id {
				statuses = append(statuses, e.Data["status"])
				if e.Data["state"] == "failed" || e.Data["state"] == "answered" {
					return statuses, e.Data
				}
			}
		case <-deadline:
			t.Fatalf("dial neither answered nor failed; dial events %v", statuses)
		}
	}
}

// challengingCallee is a peerUA callee that challenges in realm, counts the INVITEs it gets and
// those that carry credentials, and refuses (486) every authorized one: enough to watch what a
// dial-out hands to whoever challenges it.
type challengingCallee struct {
	*peerUA
	invites, withCredentials atomic.Int32
}

func startChallengingCallee(t *testing.T, realm string) *challengingCallee {
	c := &challengingCallee{peerUA: startPeerUA(t, true)}
	c.chal.Realm = realm
	c.srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		c.invites.Add(1)
		if req.GetHeader("Proxy-Authorization") != nil || req.GetHeader("Authorization") != nil {
			c.withCredentials.Add(1)
		}
		if c.authorized(req, tx) {
			respond(tx, req, 486, "Busy Here")
		}
	})
	c.serve()
	return c
}

// TestDialOutHandsCredentialsOnlyToTheirRealmAndHost is issue 8 item 5: a 407 from a host in a
// realm no credential names gets no Authorization (the dial fails saying so), nor does one
// from a host another credential is bound to, nor one from a host that merely names a
// credential's realm; the credential of the challenge's realm answers it from its own host (or
// the host named like the realm), as does one bound to the callee's host with no realm. A destination not on the allow-list is refused
// before any packet is sent, and a burst past the dial rate is refused.
func TestDialOutHandsCredentialsOnlyToTheirRealmAndHost(t *testing.T) {
	t.Parallel()
	dial := func(ts *testServer, callee *challengingCallee) map[string]any {
		t.Helper()
		sub := ts.bridge.Bus().Subscribe("out", 64, "")
		defer sub.Close()
		id, err := ts.DialOut(context.Background(), "out", "sip:bob@"+callee.addr)
		if err != nil {
			t.Fatal(err)
		}
		_, last := awaitDialEnd(t, sub, id)
		return last
	}
	secret := func(realm, host string) []Credential {
		return []Credential{{Realm: realm, Host: host, User: "alice", Password: "secret"}}
	}
	for _, tc := range []struct {
		name, realm string
		creds       []Credential
		answered    bool
	}{
		{"foreign realm", "attacker", secret("peer", ""), false},
		{"realm of a credential bound to another host", "peer", secret("peer", "10.9.9.9"), false},
		{"credential with no realm and no host", "peer", secret("", ""), false},
		// A realm is no secret: any callee can name the provider's realm in its 407.
		{"its realm from a host of another name", "peer", secret("peer", ""), false},
		{"its realm from the host named like it", "127.0.0.1", secret("127.0.0.1", ""), true},
		{"its realm from its host", "peer", secret("peer", "127.0.0.1"), true},
		{"any realm of its host", "whatever", secret("", "127.0.0.1"), true},
	} {
		callee := startChallengingCallee(t, tc.realm)
		ts := startServer(t, Config{Credentials: tc.creds}, nil)
		last := dial(ts, callee)
		if got := callee.withCredentials.Load() > 0; got != tc.answered {
			t.Errorf("%s: credentials sent %v, want %v (dial: %v)", tc.name, got, tc.answered, last)
		}
		if !tc.answered {
			if msg, _ := last["error"].(string); !strings.Contains(msg, "no credential") {
				t.Errorf("%s: dial failed with %v, want a clear error", tc.name, last)
			}
		}
		waitIdle(t, ts)
	}

	callee := startChallengingCallee(t, "peer")
	ts := startServer(t, Config{Credentials: secret("peer", ""), DialOut: DialOut{
		Allow: []string{"+4420", "127.0.0.1"}, Rate: 0.01, Burst: 2}}, nil)
	for _, uri := range []string{"sip:bob@" + callee.addr, "sip:+4420555@192.0.2.1", "sip:+4431555@" + callee.addr} {
		if _, err := ts.DialOut(context.Background(), "out", uri); !errors.Is(err, ErrDialNotAllowed) {
			t.Errorf("%s: %v, want ErrDialNotAllowed", uri, err)
		}
	}
	if n := callee.invites.Load(); n != 0 {
		t.Fatalf("the callee got %d INVITEs for refused destinations", n)
	}
	allowed := "sip:+4420555@" + callee.addr
	for i := range 2 {
		if _, err := ts.DialOut(context.Background(), "out", allowed); err != nil {
			t.Fatalf("dial %d of the burst: %v", i+1, err)
		}
	}
	if _, err := ts.DialOut(context.Background(), "out", allowed); !errors.Is(err, ErrDialRateLimited) || guard.RetryAfterSeconds(err) < 1 {
		t.Fatalf("dial past the burst: %v, want ErrDialRateLimited with a Retry-After", err)
	}
	testkit.Eventually(t, 5*time.Second, "the dial-out calls did not end", func() bool { return ts.Calls() == 0 })
}

// TestDialOutAllowReadsLikeTheConfig: the SIP leg reads DialOut.Allow by the config file's rule
// (guard.ParseDialAllow): an IPv6 host may be allowed, and an entry that is neither a number nor
// a host stops the server at start instead of becoming a host nobody has.
func TestDialOutAllowReadsLikeTheConfig(t *testing.T) {
	p, err := newDialPolicy(DialOut{Allow: []string{"2001:db8::1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.admit(sip.Uri{Scheme: "sip", User: "bob", Host: "[2001:db8::1]"}); err != nil {
		t.Errorf("IPv6 host listed: %v", err)
	}
	if err := p.admit(sip.Uri{Scheme: "sip", User: "bob", Host: "[2001:db8::2]"}); !errors.Is(err, ErrDialNotAllowed) {
		t.Errorf("IPv6 host not listed: %v, want ErrDialNotAllowed", err)
	}
	if _, err := newDialPolicy(DialOut{Allow: []string{"1-800"}}); !errors.Is(err, guard.ErrBadDialAllow) {
		t.Errorf("allow 1-800: %v, want guard.ErrBadDialAllow", err)
	}
}

// TestOneSIPURIRule: a dial-out and a transfer take the same targets (parseURI): a sip: or
// sips: URI with a host and nothing that could end a header, and refuse anything else with
// ErrBadURI, which the control API answers 400 through bridge.StatusOf.
func TestOneSIPURIRule(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{DialOut: DialOut{Allow: []string{"allowed.example"}}}, nil)
	ctx := context.Background()
	// Parsed, then refused by security.dialout.allow before anything is sent.
	for _, uri := range []string{"sip:bob@other.example", "sips:bob@other.example", "sips:+15550100@other.example;user=phone"} {
		if _, err := ts.DialOut(ctx, "room", uri); !errors.Is(err, ErrDialNotAllowed) {
			t.Errorf("dial %q: %v, want ErrDialNotAllowed (the URI accepted, the host not allowed)", uri, err)
		}
	}
	for _, uri := range []string{"tel:+15550100", "http://pbx/", "sip:", "sip:bob@other.example\r\nX-Evil: 1",
		"sip:bob@other.example>;x=1", "sip:bob@other.example\x00",
		"sip:bob@allowed.example@other.example"} {
		_, err := ts.DialOut(ctx, "room", uri)
		if !errors.Is(err, ErrBadURI) {
			t.Errorf("dial %q: %v, want ErrBadURI", uri, err)
			continue
		}
		if st, ok := bridge.StatusOf(err); !ok || st.HTTP != 400 {
			t.Errorf("dial %q: %v answered %+v %v, want HTTP 400", uri, err, st, ok)
		}
		if _, terr := parseURI(uri); !errors.Is(terr, ErrBadURI) {
			t.Errorf("transfer to %q: %v, want ErrBadURI as for a dial", uri, terr)
		}
	}
}

// TestSIPSDialGoesOverTLS: a sips: target is called over TLS (RFC 3261 section 26.2.2), never
// over UDP or plain TCP: what reaches the callee's port is a TLS ClientHello.
func TestSIPSDialGoesOverTLS(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, nil)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	first := make(chan byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b := make([]byte, 1)
		if _, err := io.ReadFull(c, b); err == nil {
			first <- b[0]
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ts.DialOut(ctx, "tls", "sips:bob@"+l.Addr().String()) // blocks until the TLS handshake fails
	select {
	case b := <-first:
		if b != 0x16 { // a TLS handshake record (RFC 8446 section 5.1)
			t.Fatalf("the callee's port got %#x, not a TLS handshake", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a sips: dial-out did not connect over TCP/TLS")
	}
}

// TestDialOutErrorsHaveTheirStatus: every error DialOut returns for a cause the status table
// knows is answered through it; the API answered a dial-out while draining, or with no media
// port free, 400 like a malformed request.
func TestDialOutErrorsHaveTheirStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		http int
	}{{ErrDraining, 503}, {ErrNoPorts, 503}, {ErrDialNumber, 400}, {ErrBadURI, 400}} {
		if st, ok := bridge.StatusOf(tc.err); !ok || st.HTTP != tc.http {
			t.Errorf("%v: %+v %v, want HTTP %d", tc.err, st, ok, tc.http)
		}
	}
	if st, _ := bridge.StatusOf(ErrDraining); st.RetryAfter == 0 {
		t.Error("draining: no Retry-After")
	}
}
