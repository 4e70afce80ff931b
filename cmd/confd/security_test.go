package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"confd/bridge"
	"confd/codec"
	"confd/internal/config"
	"confd/testkit/rtptest"
)

// inProcess runs a daemon in the test process on loopback ports, with sec as its HTTP
// security settings and the API token token (and whatever more settings the opts make), until
// the test ends. It returns the daemon and its HTTP base URL.
func inProcess(t *testing.T, token string, sec config.HTTPSecurity, opts ...func(*config.Config)) (*daemon, string) {
	t.Helper()
	cfg := config.Default()
	cfg.SIP, cfg.HTTP = "127.0.0.1:0", "127.0.0.1:0"
	low, high := rtpBlocks.Next()
	cfg.RTP = config.PortRange{Low: low, High: high}
	cfg.APIToken = token
	cfg.HTTPSecurity = sec
	cfg.RecordingDir = filepath.Join(t.TempDir(), "recordings")
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	d, err := newDaemon(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		d.shutdown(ctx)
	})
	return d, "http://" + d.httpLn.Addr().String()
}

// joinSilent joins name to room on d's bridge as a SIP participant on PCMU whose leg sends
// nothing, and takes it out when the test ends (a test may take it out sooner: Leave is safe
// to call more than once).
func joinSilent(t *testing.T, d *daemon, room, name string) *bridge.Participant {
	t.Helper()
	p, err := d.bridge.Join(room, bridge.ParticipantInfo{Name: name, Kind: bridge.KindSIP, Output: codec.Format{Codec: codec.PCMU}}, rtptest.NopLeg{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Leave("bye") })
	return p
}

// send makes one request with the given headers ("K", "V" pairs) and returns the status.
func send(t *testing.T, method, url, body string, hdr ...string) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestCrossSiteRecordingAndMuteAllChangeNothing is issue 8 item 8 against the daemon: a page
// on another site makes the browser POST /api/rooms/R/recording as text/plain, and a form
// posts mute-all. Both are refused (403 for the foreign Origin, 415 for a body that is not
// JSON), even with the API token, and no recording file appears and nobody is muted. The
// same requests from the page itself, as JSON, work.
func TestCrossSiteRecordingAndMuteAllChangeNothing(t *testing.T) {
	const token = "csrf-test-token"
	d, base := inProcess(t, token, config.HTTPSecurity{})
	joinSilent(t, d, "standup", "Ada")
	auth := "Bearer " + token
	evil := "https://evil.example"
	attacks := []struct {
		name, path, ctype, body string
		hdr                     []string
		want                    int
	}{
		{"text/plain recording from another site", "/api/rooms/standup/recording", "text/plain", "start", []string{"Origin", evil}, 403},
		{"text/plain recording, no token", "/api/rooms/standup/recording", "text/plain", "start", []string{"Authorization", ""}, 401},
		{"text/plain recording without Origin", "/api/rooms/standup/recording", "text/plain", "start", nil, 415},
		{"empty recording POST", "/api/rooms/standup/recording", "", "", nil, 415},
		{"form-encoded mute-all from another site", "/api/rooms/standup/mute-all", "application/x-www-form-urlencoded", "all=1", []string{"Origin", evil}, 403},
		{"form-encoded mute-all", "/api/rooms/standup/mute-all", "application/x-www-form-urlencoded", "all=1", nil, 415},
	}
	for _, a := range attacks {
		hdr := append([]string{"Authorization", auth, "Content-Type", a.ctype}, a.hdr...)
		if got := send(t, "POST", base+a.path, a.body, hdr...); got != a.want {
			t.Errorf("%s: %d, want %d", a.name, got, a.want)
		}
	}
	if files, _ := filepath.Glob(filepath.Join(d.cfg.RecordingDir, "*")); len(files) > 0 {
		t.Errorf("refused requests left recordings %v", files)
	}
	if _, ok := d.recorder.Recording("standup"); ok {
		t.Error("a refused request started a recording")
	}
	if st, _ := d.bridge.RoomState("standup"); len(st.Participants) != 1 || st.Participants[0].Muted {
		t.Errorf("a refused request changed the room: %+v", st.Participants)
	}

	// The page itself: same origin, JSON.
	if got := send(t, "POST", base+"/api/rooms/standup/mute-all", "", "Authorization", auth, "Content-Type", "application/json", "Origin", base); got != 200 {
		t.Errorf("same-origin JSON mute-all: %d, want 200", got)
	}
	if got := send(t, "POST", base+"/api/rooms/standup/recording", "{}", "Authorization", auth, "Content-Type", "application/json", "Origin", base); got != 201 {
		t.Errorf("same-origin JSON recording: %d, want 201", got)
	}
}

// TestAPIClosedWithoutToken is issue 8 item 6 against the daemon: started with no token
// configured, confd makes one up (it is in the log with the moderator link) and answers 401
// to a loopback request that carries a rebound Host and X-Forwarded-For but not the token.
func TestAPIClosedWithoutToken(t *testing.T) {
	t.Setenv(config.APITokenEnv, "")
	d, base := inProcess(t, "", config.HTTPSecurity{})
	if d.tokenSrc != "generated" || len(d.cfg.APIToken) != 43 {
		t.Fatalf("token from %q, %d characters: want a generated 32-byte base64url token", d.tokenSrc, len(d.cfg.APIToken))
	}
	for _, path := range []string{"/api/rooms", "/api/rooms/standup", "/api/events"} {
		if got := send(t, "GET", base+path, "", "Host", "rebind.attacker.example", "X-Forwarded-For", "127.0.0.1"); got != 401 {
			t.Errorf("GET %s without the token: %d, want 401", path, got)
		}
	}
	if got := send(t, "GET", base+"/api/rooms", "", "Authorization", "Bearer "+d.cfg.APIToken); got != 200 {
		t.Errorf("GET /api/rooms with the generated token: %d, want 200", got)
	}
	for _, probe := range []string{"/healthz", "/readyz", "/metrics"} {
		if got := send(t, "GET", base+probe, ""); got != 200 {
			t.Errorf("GET %s: %d, want 200 without a token", probe, got)
		}
	}
	link := d.where.moderatorLink()
	if link != base+"/#moderate" {
		t.Errorf("moderator link %q, want %s/#moderate", link, base)
	}
}

// TestMetricsTokenRequired: with http_security.metrics_token set, /metrics without it is
// refused (issue 8 item 11), and a live room's name is in no label.
func TestMetricsTokenRequired(t *testing.T) {
	d, base := inProcess(t, "api-token", config.HTTPSecurity{MetricsToken: "metrics-token"})
	joinSilent(t, d, "secret-open-room", "Ada")
	for _, auth := range []string{"", "Bearer api-token", "Bearer wrong"} {
		if got := send(t, "GET", base+"/metrics", "", "Authorization", auth); got != 401 {
			t.Errorf("/metrics with Authorization %q: %d, want 401", auth, got)
		}
	}
	code, body := apiCall(t, "GET", base+"/metrics", "metrics-token", "")
	if code != 200 || !strings.Contains(string(body), "confd_room_participants") {
		t.Errorf("/metrics with its token: %d", code)
	}
	if strings.Contains(string(body), "secret-open-room") {
		t.Error("/metrics names the live open room")
	}
}

// TestSlowWHIPBodyIsCutOff is issue 8 item 13's attack on the daemon: a WHIP POST that declares
// 5,000 bytes and sends none is closed once the body deadline is over; a client over the
// per-source connection cap is refused; the event stream outlives the deadline.
func TestSlowWHIPBodyIsCutOff(t *testing.T) {
	const perSource = 4
	d, base := inProcess(t, "api-token", config.HTTPSecurity{
		BodyTimeout: config.Duration(300 * time.Millisecond), MaxConnsPerSource: perSource, ConnRate: 1000})
	addr := d.httpLn.Addr().String()

	// An event stream, opened first: it must still deliver after the slow POST is cut off.
	req, _ := http.NewRequest("GET", base+"/api/rooms/standup/events", nil)
	req.Header.Set("Authorization", "Bearer api-token")
	events, err := http.DefaultClient.Do(req)
	if err != nil || events.StatusCode != 200 {
		t.Fatalf("events: %v %v", events, err)
	}
	defer events.Body.Close()

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /whip/standup HTTP/1.1\r\nHost: %s\r\nContent-Type: application/sdp\r\nContent-Length: 5000\r\n\r\n", addr)
	c.SetReadDeadline(time.Now().Add(10 * time.Second)) // only against a hang; the deadline is 300 ms
	answer, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the half-sent WHIP POST was still open after 10 s (answer so far %q)", answer)
	}

	// Fill the per-source cap (the event stream holds one place), then one more is refused.
	var held []net.Conn
	defer func() {
		for _, h := range held {
			h.Close()
		}
	}()
	served := func(c net.Conn) bool {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		line, err := bufio.NewReader(c).ReadString('\n')
		return err == nil && strings.HasPrefix(line, "HTTP/1.1 200")
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(held) < perSource-1 { // the cut-off connection's place comes back once it is closed
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if served(c) {
			held = append(held, c)
			continue
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("only %d connections served besides the event stream, want %d", len(held), perSource-1)
		}
		time.Sleep(20 * time.Millisecond)
	}
	extra, err := net.Dial("tcp", addr)
	if err == nil {
		if served(extra) {
			t.Errorf("a connection over the per-source cap of %d was served", perSource)
		}
		extra.Close()
	}

	// The stream is still live past the body deadline: a join shows up on it.
	joinSilent(t, d, "standup", "Ada")
	got := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(events.Body)
		for sc.Scan() {
			if sc.Text() == "event: join" {
				got <- true
				return
			}
		}
		got <- false
	}()
	select {
	case ok := <-got:
		if !ok {
			t.Error("the event stream ended before the join")
		}
	case <-time.After(10 * time.Second):
		t.Error("no join event on the stream")
	}
}

// TestAPITokenFromEnv: a token given by the environment is the daemon's API token, kept out
// of ps (the precedence of flag, file, environment is config's TestHTTPSecuritySettings).
func TestAPITokenFromEnv(t *testing.T) {
	t.Setenv(config.APITokenEnv, "from-env")
	d, base := inProcess(t, "", config.HTTPSecurity{})
	if got := send(t, "GET", base+"/api/rooms", "", "Authorization", "Bearer from-env"); got != 200 || d.tokenSrc != "env" {
		t.Errorf("GET /api/rooms with $%s's token: %d (token from %s), want 200", config.APITokenEnv, got, d.tokenSrc)
	}
}

// TestRefusalsShowInMetrics: what the public-address defences refuse is counted where an operator
// looks, so an attack (or limits too tight for a proxy in front) is seen: a cross-site WebSocket
// upgrade to /sip shows as confd_sipws_handshakes_refused_total{reason="origin"}, PIN tries as
// confd_pin_attempts_total.
func TestRefusalsShowInMetrics(t *testing.T) {
	d, base := inProcess(t, "api-token", config.HTTPSecurity{})
	for range 2 {
		got := send(t, "GET", base+"/sip", "", "Connection", "Upgrade", "Upgrade", "websocket",
			"Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==",
			"Sec-WebSocket-Protocol", "sip", "Origin", "https://attacker.example")
		if got != 403 {
			t.Fatalf("cross-site upgrade: %d, want 403", got)
		}
	}
	d.pins.Fail("192.0.2.1", "r", time.Now())
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`confd_sipws_handshakes_refused_total{reason="origin"} 2`, `confd_pin_attempts_total{outcome="wrong"} 1`,
		`confd_sip_admission_refused_total{how="dropped"} 0`, `confd_http_connections_refused_total{reason="proxy_header"} 0`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
