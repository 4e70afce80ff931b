package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"confd/bridge"
	"confd/internal/config"
	"confd/testkit"
)

// waitLog waits until the daemon's log holds every one of want, and fails naming the first
// missing one.
func waitLog(t *testing.T, d *daemonProc, want ...string) {
	t.Helper()
	missing := func() int {
		log := d.Log()
		return slices.IndexFunc(want, func(w string) bool { return !strings.Contains(log, w) })
	}
	if !testkit.WaitFor(10*time.Second, func() bool { return missing() < 0 }) {
		t.Fatalf("the log lacks %q:\n%s", want[missing()], d.Log())
	}
}

// TestBanner: the real binary's start-up banner names the web page, the moderator view with
// the generated token, the SIP URI to dial for a room and the dial-in numbers on the address
// that reaches it, says that TLS is off and what that costs a second device's microphone, and
// what is open to whom; with -tls-self-signed it says TLS is on. GET /api/info answers the
// same SIP address and numbers to the page, without a token and without a room name.
func TestBanner(t *testing.T) {
	t.Setenv("CONFD_API_TOKEN", "")
	conf := filepath.Join(t.TempDir(), "confd.toml")
	if err := os.WriteFile(conf, []byte("[[room]]\nname = \"secretroom\"\npin = \"1234\"\n\n[[dialin]]\nnumber = \"+15550100\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "-config", conf)
	token := d.generatedToken(t)
	web := fmt.Sprintf("http://127.0.0.1:%d/", d.http)
	sip := fmt.Sprintf("127.0.0.1:%d", d.sip)
	waitLog(t, d,
		`msg="open the web page" url=`+web,
		`moderator="`+web+`#moderate?token=`+token+`"`,
		"sip_uri=sip:ROOM@"+sip, "example=sip:demo@"+sip, "dial_in=+15550100", "dial_in_uri=sip:+15550100@"+sip,
		"TLS off: only a browser on this machine (localhost) gets the microphone; a second device's browser needs HTTPS",
		"open to this machine only: the web page, WHIP/WHEP and SIP over WebSocket",
		"open to this machine only: SIP calls to any room",
		"the control API (/api/*) needs the API token; /metrics is open to this machine only",
		"libopus",
	)

	resp, err := d.Get("/api/info")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/info without a token: %d %s", resp.StatusCode, body)
	}
	var got info
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.SIP.URITemplate != "sip:{room}@"+sip || got.SIP.Port != d.sip || len(got.DialIn) != 1 || got.DialIn[0] != "+15550100" || got.TLS {
		t.Errorf("GET /api/info = %s", body)
	}
	if strings.Contains(string(body), "secretroom") || strings.Contains(string(body), "1234") || strings.Contains(string(body), token) {
		t.Errorf("GET /api/info gives away a room, its PIN or the token: %s", body)
	}

	tlsd := startDaemon(t, "-tls-self-signed")
	waitLog(t, tlsd, fmt.Sprintf(`msg="open the web page" url=https://127.0.0.1:%d/`, tlsd.http),
		"TLS on (self-signed): a browser on another device gets the microphone once it accepts the certificate")
}

// TestVersionFlag: confd -version prints its version, commit, Go and libopus versions and
// exits 0 without starting anything (the commit of a `make build` binary is checked by
// packaging's TestDebianPackage).
func TestVersionFlag(t *testing.T) {
	out, err := exec.Command(testkit.Confd(t), "-version", "-sip", "127.0.0.1:1").CombinedOutput()
	if err != nil {
		t.Fatalf("confd -version: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []string{"confd ", "commit ", "go go1.", "libopus "}
	if len(lines) != len(want) {
		t.Fatalf("confd -version printed\n%s\nwant %d lines", out, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d %q, want it to start with %q", i+1, lines[i], w)
		}
	}
}

// TestInfoIsWorkedOutOnceAtStart (review finding 11): GET /api/info, public, answers from what
// start worked out once (the LAN address, the SIP host, the scheme); a request opens no socket
// and reads no listener (this daemon has none).
func TestInfoIsWorkedOutOnceAtStart(t *testing.T) {
	d := &daemon{cfg: config.Default()}
	d.cfg.DialIn = []config.DialIn{{Number: "+15550100"}}
	d.where = reachability{sipHost: "192.0.2.7:5062", https: true}
	w := httptest.NewRecorder()
	d.serveInfo(w, httptest.NewRequest("GET", "/api/info", nil))
	var got info
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != 200 {
		t.Fatalf("GET /api/info: %d %s", w.Code, w.Body)
	}
	if got.SIP.Host != "192.0.2.7" || got.SIP.Port != 5062 || got.SIP.URITemplate != "sip:{room}@192.0.2.7:5062" ||
		!got.TLS || !slices.Equal(got.SIP.Transports, sipTransports) || !slices.Equal(got.DialIn, []string{"+15550100"}) {
		t.Errorf("GET /api/info = %s", w.Body)
	}
}

// TestBannerSaysTheRoomNameRule (review finding 11): the banner states the room-name rule
// whole (bridge.RoomNamePattern, length included) and the transports GET /api/info names, and
// the moderator link and the web page share one scheme.
func TestBannerSaysTheRoomNameRule(t *testing.T) {
	var log bytes.Buffer
	d := &daemon{cfg: config.Default(), log: slog.New(slog.NewTextHandler(&log, nil)), tokenSrc: "flag"}
	httpAddr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8443}
	sipAddr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060}
	d.where = d.reach(httpAddr, sipAddr, true)
	d.banner(httpAddr, sipAddr)
	for _, want := range []string{
		"any room name " + bridge.RoomNamePattern,
		"transports=" + strings.Join(sipTransports, ","),
		`moderator=https://127.0.0.1:8443/#moderate`,
		"url=https://127.0.0.1:8443/",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the banner lacks %q:\n%s", want, log.String())
		}
	}
}
