package webrtcleg

import (
	"fmt"
	"net"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/stun/v4"

	"confd/bridge"
	"confd/testkit"
)

// attackOffer is a valid WebRTC offer written by hand, as a script would send it, with the
// given candidate lines: the offerer never starts ICE or DTLS.
func attackOffer(candidates ...string) string {
	var b strings.Builder
	b.WriteString("v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:" + attackerUfrag + "\r\n" +
		"a=ice-pwd:attackerpasswordattacker\r\na=fingerprint:sha-256 " +
		"AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n" +
		"a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n")
	for _, c := range candidates {
		b.WriteString(c + "\r\n")
	}
	return b.String()
}

const attackerUfrag = "atkr"

// hostCandidate is an a=candidate line of a UDP host candidate at addr.
func hostCandidate(i int, addr net.Addr) string {
	a := addr.(*net.UDPAddr)
	return fmt.Sprintf("a=candidate:%d 1 udp 2122260223 %s %d typ host generation 0", i, a.IP, a.Port)
}

// postFrom POSTs an offer from the loopback address src.
func (ts *testServer) postFrom(t *testing.T, src, path, token, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.http.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/sdp")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return doFrom(t, src, req)
}

// checkRefusal fails unless resp is a JSON refusal with status and a Retry-After.
func checkRefusal(t *testing.T, resp *http.Response, body string, status int, reason string) {
	t.Helper()
	checkError(t, resp, body, status, reason)
	if resp.Header.Get("Retry-After") == "" {
		t.Errorf("%d without Retry-After", resp.StatusCode)
	}
}

// Issue 8 item 9: a burst of WHIP POSTs whose offerer never does ICE. Beyond the per-source cap
// the POSTs are refused 429 with nothing allocated; the admitted ones never reach the roster
// and are closed after ConnectTimeout, and every goroutine and file descriptor they took is
// given back.
func TestSessionFloodFromOneSource(t *testing.T) {
	const perSource, burst = 4, 60
	ts := newTestServer(t, bridge.Config{}, Config{SessionsPerSource: perSource, ConnectTimeout: 2 * time.Second})
	silent, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	offer := attackOffer(hostCandidate(1, silent.LocalAddr()))

	// One call first, ended by DELETE, so that whatever pion and net/http start once per
	// process is running before the baseline is taken.
	resp, body := ts.postFrom(t, "127.0.0.1", "/whip/flood", "", offer)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("first POST: %d %s", resp.StatusCode, body)
	}
	if resp := ts.delete(t, resp.Header.Get("Location"), ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}
	if !testkit.WaitFor(5*time.Second, func() bool { return ts.s.Calls() == 0 }) {
		t.Fatalf("the first call did not end")
	}
	baseG, baseFD := runtime.NumGoroutine(), testkit.OpenFDs(t)
	endedBefore := ts.s.Stats().Ended

	var created, refused atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < burst; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body := ts.postFrom(t, "127.0.0.1", "/whip/flood", "", offer)
			switch resp.StatusCode {
			case http.StatusCreated:
				created.Add(1)
			case http.StatusTooManyRequests:
				refused.Add(1)
				checkRefusal(t, resp, body, http.StatusTooManyRequests, "too many")
			default:
				t.Errorf("POST: %d %s", resp.StatusCode, body)
			}
		}()
	}
	wg.Wait()
	// A call admitted early may have timed out during the burst and given its place back.
	endedDuring := int32(ts.s.Stats().Ended - endedBefore)
	t.Logf("%d POSTs: %d created, %d refused 429 (%d calls ended meanwhile)", burst, created.Load(), refused.Load(), endedDuring)
	if created.Load() < perSource || created.Load() > perSource+endedDuring || created.Load()+refused.Load() != burst {
		t.Errorf("%d created and %d refused of %d: want %d created (the per-source cap)", created.Load(), refused.Load(), burst, perSource)
	}
	// Another source is not refused for the first one's calls.
	if resp, body := ts.postFrom(t, "127.0.0.2", "/whip/flood", "", offer); resp.StatusCode != http.StatusCreated {
		t.Errorf("another source: %d %s", resp.StatusCode, body)
	}
	if n := len(ts.b.Participants()); n != 0 {
		t.Errorf("%d participants joined without ICE and DTLS", n)
	}
	// They are closed after ConnectTimeout, never having joined.
	if !testkit.WaitFor(15*time.Second, func() bool {
		if n := len(ts.b.Participants()); n != 0 {
			t.Fatalf("%d participants joined without ICE and DTLS", n)
		}
		return ts.s.Calls() == 0
	}) {
		t.Fatalf("%d calls still open after ConnectTimeout", ts.s.Calls())
	}
	if !testkit.WaitFor(10*time.Second, func() bool { return runtime.NumGoroutine() <= baseG && testkit.OpenFDs(t) <= baseFD }) {
		t.Errorf("after the calls timed out: %d goroutines (base %d), %d fds (base %d)", runtime.NumGoroutine(), baseG, testkit.OpenFDs(t), baseFD)
	}
	// The source's places were given back: it may call again.
	if resp, body := ts.postFrom(t, "127.0.0.1", "/whip/flood", "", offer); resp.StatusCode != http.StatusCreated {
		t.Errorf("the flooding source after its calls ended: %d %s", resp.StatusCode, body)
	}
}

// Issue 8 item 9, the overall cap: past MaxSessions every source is answered 503 with
// Retry-After; a call that ends gives its place back at once.
func TestSessionCapOverall(t *testing.T) {
	ts := newTestServer(t, bridge.Config{}, Config{SessionsPerSource: 2, MaxSessions: 3, ConnectTimeout: time.Minute})
	offer := attackOffer()
	var locs []string
	for _, src := range []string{"127.0.0.1", "127.0.0.1", "127.0.0.2"} {
		resp, body := ts.postFrom(t, src, "/whep/cap", "", offer)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST from %s: %d %s", src, resp.StatusCode, body)
		}
		locs = append(locs, resp.Header.Get("Location"))
	}
	resp, body := ts.postFrom(t, "127.0.0.3", "/whep/cap", "", offer)
	checkRefusal(t, resp, body, http.StatusServiceUnavailable, "too many sessions")
	if ts.s.Calls() != 3 {
		t.Errorf("%d calls, want 3", ts.s.Calls())
	}
	if resp := ts.delete(t, locs[0], ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}
	if resp, body := ts.postFrom(t, "127.0.0.3", "/whep/cap", "", offer); resp.StatusCode != http.StatusCreated {
		t.Errorf("after a DELETE: %d %s", resp.StatusCode, body)
	}
}

// stunCounter is a set of UDP sockets standing for the strangers an offer's candidates name;
// it counts the STUN Binding requests each receives.
type stunCounter struct {
	socks    []net.PacketConn
	requests []atomic.Int32
	wg       sync.WaitGroup
}

func newSTUNCounter(t *testing.T, n int) *stunCounter {
	t.Helper()
	c := &stunCounter{requests: make([]atomic.Int32, n)}
	for i := 0; i < n; i++ {
		s, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		c.socks = append(c.socks, s)
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			buf := make([]byte, 1500)
			for {
				n, _, err := s.ReadFrom(buf)
				if err != nil {
					return
				}
				var m stun.Message
				if m.UnmarshalBinary(buf[:n]) == nil && m.Type == stun.BindingRequest {
					c.requests[i].Add(1)
				}
			}
		}()
	}
	t.Cleanup(c.close)
	return c
}

// drain lets each socket read what is already queued, then stops the readers.
func (c *stunCounter) drain() {
	for _, s := range c.socks {
		_ = s.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	}
	c.wg.Wait()
}

func (c *stunCounter) close() {
	for _, s := range c.socks {
		_ = s.Close()
	}
	c.wg.Wait()
}

// counts returns how many Binding requests arrived and at how many sockets.
func (c *stunCounter) counts() (total, targets int) {
	for i := range c.requests {
		if n := int(c.requests[i].Load()); n > 0 {
			total += n
			targets++
		}
	}
	return total, targets
}

var answerICE = regexp.MustCompile(`a=ice-(ufrag|pwd):(\S+)`)

// bindingRequest is a Binding request to confd from the attacker's side of the answer's ICE
// session (RFC 8445 section 7.2.2): it passes confd's checks of USERNAME and MESSAGE-INTEGRITY.
func bindingRequest(t *testing.T, answer string) []byte {
	t.Helper()
	creds := map[string]string{}
	for _, m := range answerICE.FindAllStringSubmatch(answer, -1) {
		creds[m[1]] = m[2]
	}
	msg, err := stun.Build(stun.BindingRequest, stun.TransactionID, stun.NewUsername(creds["ufrag"]+":"+attackerUfrag),
		ice.AttrControlling(1), ice.PriorityAttr(1845501695), stun.NewShortTermIntegrity(creds["pwd"]), stun.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	return msg.Raw
}

// Issue 8 item 10: one offer with 100 candidates, each naming a socket of the test. Confd
// answers it, but checks only MaxCandidates of them, a bounded number of times each, and the
// peer-reflexive candidates that 100 more addresses try to add with valid checks are bounded
// too. An ICE-lite confd (RFC 8445 section 2.5) sends no checks at all.
func TestOfferCandidatesDoNotAimChecks(t *testing.T) {
	for _, lite := range []bool{false, true} {
		t.Run(fmt.Sprintf("lite=%v", lite), func(t *testing.T) {
			const n, maxCandidates = 100, 8
			ts := newTestServer(t, bridge.Config{}, Config{ICELite: lite, MaxCandidates: maxCandidates, ConnectTimeout: 3 * time.Second})
			strangers := newSTUNCounter(t, n)
			var cands []string
			for i, s := range strangers.socks {
				cands = append(cands, hostCandidate(i, s.LocalAddr()))
			}
			// Candidates no one should ever be sent checks at, which take no place either.
			cands = append(cands[:4], append([]string{
				"a=candidate:900 1 udp 2122260223 224.0.0.251 5353 typ host",
				"a=candidate:901 1 udp 2122260223 0.0.0.0 9 typ host",
				"a=candidate:902 1 udp 2122260223 127.0.0.1 0 typ host",
				"a=candidate:903 1 udp 2122260223 5e3f1a2b-6c4d.local 40000 typ host",
				"a=candidate:904 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active",
				"a=candidate:905 2 udp 2122260222 127.0.0.1 9 typ host",
			}, cands[4:]...)...)
			offer := attackOffer(cands...)
			t.Logf("the offer: %d bytes, %d candidates", len(offer), len(cands))
			resp, answer := ts.postFrom(t, "127.0.0.1", "/whip/aim", "", offer)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("the offer was not answered: %d %s", resp.StatusCode, answer)
			}
			call, err := ts.s.Call(resp.Header.Get("Location")[len("/whip/aim/"):])
			if err != nil {
				t.Fatal(err)
			}
			// 100 more addresses send valid checks, each asking confd to learn it as a
			// peer-reflexive candidate and check it back.
			confd := hostCandidates(t, answer)[0]
			prflx := newSTUNCounter(t, n)
			req := bindingRequest(t, answer)
			for _, s := range prflx.socks {
				if _, err := s.WriteTo(req, net.UDPAddrFromAddrPort(confd)); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case <-call.Done():
			case <-time.After(15 * time.Second):
				t.Fatalf("the call outlived its connect timeout")
			}
			strangers.drain()
			prflx.drain()
			total, targets := strangers.counts()
			ptotal, ptargets := prflx.counts()
			t.Logf("checks sent: %d to %d of the offer's %d addresses, %d to %d of %d peer-reflexive ones",
				total, targets, n, ptotal, ptargets, n)
			// pion sends a pair at most maxBindingRequests+1 (8) checks, plus one triggered
			// check for a peer-reflexive candidate (RFC 8445 section 7.3.1.4).
			const perPair = 9
			switch {
			case lite && total+ptotal != 0:
				t.Errorf("an ICE-lite confd sent %d checks", total+ptotal)
			case targets > maxCandidates || total > maxCandidates*perPair:
				t.Errorf("%d checks to %d of the offer's addresses: want at most %d addresses, %d checks", total, targets, maxCandidates, maxCandidates*perPair)
			case targets+ptargets > 2*maxCandidates || ptotal > maxCandidates*perPair:
				t.Errorf("%d checks to %d peer-reflexive addresses: want at most %d addresses in all", ptotal, ptargets, 2*maxCandidates)
			}
		})
	}
}

// Unit cases of limitCandidates: what is dropped and what is kept.
func TestLimitCandidates(t *testing.T) {
	offer := attackOffer(
		"a=candidate:1 1 udp 1 192.0.2.1 1000 typ host",
		"a=candidate:2 1 UDP 1 2001:db8::1 1000 typ srflx raddr 0.0.0.0 rport 0",
		"a=candidate:3 1 udp 1 192.0.2.1 1000 typ host", // the same address again
		"a=candidate:4 1 udp 1 ff02::1 1000 typ host",
		"a=candidate:5 1 udp 1 255.255.255.255 1000 typ host",
		"a=candidate:6 1 udp 1 fe80::1%eth0 1000 typ host",
		"a=candidate:7 1 udp 1 host.example 1000 typ host",
		"a=candidate:8 1 udp 1 192.0.2.2 1000 typ",
		"a=candidate:9 1 udp 1 192.0.2.3 1000 typ relay raddr 192.0.2.9 rport 9",
		"a=candidate:10 1 udp 1 192.0.2.4 1000 typ host",
	)
	got, dropped := limitCandidates(offer, 3)
	want := []string{"192.0.2.1 1000", "2001:db8::1 1000", "192.0.2.3 1000"}
	kept := regexp.MustCompile(`a=candidate:\S+ \S+ \S+ \S+ (\S+ \d+)`).FindAllStringSubmatch(got, -1)
	if len(kept) != len(want) || dropped != 7 {
		t.Fatalf("kept %q, dropped %d", kept, dropped)
	}
	for i, k := range kept {
		if k[1] != want[i] {
			t.Errorf("candidate %d: %s, want %s", i, k[1], want[i])
		}
	}
	if strings.Replace(got, "\r\n", "", -1) == "" || !strings.HasPrefix(got, "v=0\r\n") || !strings.Contains(got, "a=rtpmap:111 opus/48000/2\r\n") {
		t.Errorf("the rest of the offer changed:\n%s", got)
	}
}

// Issue 8 item 1 (WHIP and WHEP): PIN guessing from one source is cut off after a few checked
// tries (429 with Retry-After, the PIN not looked at); another source and another room are not
// slowed; a bad offer is answered the same with a right PIN as with a wrong one.
func TestPINGuessingIsCutOff(t *testing.T) {
	ts := newTestServer(t, bridge.Config{Rooms: map[string]bridge.RoomSettings{
		"vault": {PIN: "4821"}, "other": {PIN: "1111"},
	}}, Config{})
	offer := attackOffer()
	checked, lockedOut := 0, 0
	for i := 0; i < 200; i++ {
		path := "/whip/vault"
		if i%2 == 1 {
			path = "/whep/vault"
		}
		resp, body := ts.postFrom(t, "127.0.0.1", path, fmt.Sprintf("%04d", i+5000), offer)
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			checked++
			if lockedOut > 0 {
				t.Fatalf("guess %d was checked after the source was refused", i)
			}
		case http.StatusTooManyRequests:
			lockedOut++
			checkRefusal(t, resp, body, http.StatusTooManyRequests, "failed attempts")
		default:
			t.Fatalf("guess %d: %d %s", i, resp.StatusCode, body)
		}
	}
	t.Logf("200 wrong PINs from one source: %d checked, %d refused", checked, lockedOut)
	if checked > 20 {
		t.Errorf("%d of 200 guesses were checked: want a lock-out well before", checked)
	}
	// Even the right PIN is refused unchecked now.
	resp, body := ts.postFrom(t, "127.0.0.1", "/whip/vault", "4821", offer)
	checkRefusal(t, resp, body, http.StatusTooManyRequests, "failed attempts")

	// Another source, the same room: its wrong PIN is checked, its right PIN joins at once.
	if resp, body := ts.postFrom(t, "127.0.0.2", "/whip/vault", "0000", offer); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("another source's wrong PIN: %d %s", resp.StatusCode, body)
	}
	if resp, body := ts.postFrom(t, "127.0.0.2", "/whip/vault", "4821", offer); resp.StatusCode != http.StatusCreated {
		t.Errorf("another source's right PIN: %d %s", resp.StatusCode, body)
	}
	// Another room, another source.
	if resp, body := ts.postFrom(t, "127.0.0.3", "/whep/other", "1111", offer); resp.StatusCode != http.StatusCreated {
		t.Errorf("another room: %d %s", resp.StatusCode, body)
	}

	// A bad offer says nothing about the PIN.
	bad := sdpWith("m=audio 9 UDP/TLS/RTP/SAVPF 0\na=rtpmap:0 PCMU/8000\n")
	noUfrag := strings.Replace(offer, "a=ice-ufrag:"+attackerUfrag+"\r\n", "", 1) // pion refuses it
	for _, o := range []string{bad, noUfrag, "hello"} {
		right, rightBody := ts.postFrom(t, "127.0.0.4", "/whip/vault", "4821", o)
		wrong, wrongBody := ts.postFrom(t, "127.0.0.4", "/whip/vault", "9999", o)
		if right.StatusCode != http.StatusBadRequest || wrong.StatusCode != right.StatusCode || wrongBody != rightBody {
			t.Errorf("a bad offer with the right PIN: %d %s; with a wrong one: %d %s", right.StatusCode, rightBody, wrong.StatusCode, wrongBody)
		}
	}
}

// Issue 8 item 6: a WHIP or WHEP 201 carries the room's read-only token from Config.RoomToken,
// readable by a page on another origin; refusals carry none.
func TestRoomTokenHeader(t *testing.T) {
	ts := newTestServer(t, bridge.Config{Rooms: map[string]bridge.RoomSettings{"pinned": {PIN: "1234"}}}, Config{
		RoomToken: func(room string) string {
			if room == "silent" {
				return ""
			}
			return "tok-" + room
		},
	})
	offer := attackOffer()
	for _, kind := range []string{"whip", "whep"} {
		resp, body := ts.post(t, "/"+kind+"/room1", "application/sdp", "", offer)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("%s POST: %d %s", kind, resp.StatusCode, body)
		}
		if got := resp.Header.Get("X-Confd-Room-Token"); got != "tok-room1" {
			t.Errorf("%s: X-Confd-Room-Token %q", kind, got)
		}
		if !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "X-Confd-Room-Token") {
			t.Errorf("%s: Access-Control-Expose-Headers %q", kind, resp.Header.Get("Access-Control-Expose-Headers"))
		}
	}
	resp, _ := ts.post(t, "/whip/silent", "application/sdp", "", offer)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("X-Confd-Room-Token") != "" {
		t.Errorf("an empty token: %d, header %q", resp.StatusCode, resp.Header.Get("X-Confd-Room-Token"))
	}
	resp, _ = ts.post(t, "/whip/pinned", "application/sdp", "0000", offer)
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("X-Confd-Room-Token") != "" {
		t.Errorf("a refused POST: %d, header %q", resp.StatusCode, resp.Header.Get("X-Confd-Room-Token"))
	}
}
