package sipleg

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"confd/bridge"
	"confd/internal/config"
	"confd/internal/sdpneg"
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
	ts := startServer(t, Config{Register: []config.Register{{Registrar: "sip:" + reg.addr, User: "alice", Password: "secret",
		Expiry: config.Duration(time.Hour)}}}, nil)
	waitFor(t, func() bool { // registered, then refreshed
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

	ts := startServer(t, Config{Credentials: []config.Credential{{User: "alice", Password: "secret"}}, DialIn: []string{"1000"}}, nil)
	sub := ts.bridge.Bus().Subscribe("dialroom", 64, 0)
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
	var statuses []any
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-sub.C:
			if e.Type == bridge.EventDial && e.Data["id"] == id {
				statuses = append(statuses, e.Data["status"])
				if e.Data["state"] == "failed" {
					t.Fatalf("dial failed: %v", e.Data)
				}
				if e.Data["state"] == "answered" {
					return statuses
				}
			}
		case <-deadline:
			t.Fatalf("not answered; dial events %v", statuses)
		}
	}
}
