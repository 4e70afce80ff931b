package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"confd/bridge"
	"confd/codec"
	"confd/internal/config"
	"confd/testkit"
	"confd/testkit/audiotest"
	"confd/testkit/baresip"
	"confd/testkit/gophone"
)

func TestMain(m *testing.M) { testkit.RunMain(m) }

// daemonProc is a confd process started by a test.
type daemonProc struct {
	*testkit.Daemon
	dir       string // its working directory: recordings land here
	sip, http int
}

// rtpBlocks are this package's share of RTP ports: blocks of 40 in 32000-35999 (e2e has
// 20000-29999, e2e/phones 36000-39999, baresip 40000-49999), so that daemons running at once
// never share a block.
var rtpBlocks = testkit.PortBlocks{Low: 32000, Size: 40, Count: 100}

func startDaemon(t *testing.T, args ...string) *daemonProc {
	t.Helper()
	d := &daemonProc{dir: t.TempDir()}
	d.Daemon = testkit.StartDaemon(t, func() testkit.DaemonConfig {
		d.sip, d.http = testkit.MustFreePort(t), testkit.MustFreePort(t)
		return testkit.DaemonConfig{
			Args: append([]string{
				"-sip", fmt.Sprintf("127.0.0.1:%d", d.sip),
				"-http", fmt.Sprintf("127.0.0.1:%d", d.http),
				"-rtp", rtpBlocks.Range(),
			}, args...),
			HTTP: fmt.Sprintf("127.0.0.1:%d", d.http),
			TLS:  slices.Contains(args, "-tls-self-signed"),
			Dir:  d.dir,
		}
	})
	return d
}

func (d *daemonProc) roomURI(room string) string {
	return fmt.Sprintf("sip:%s@127.0.0.1:%d", room, d.sip)
}

// sipStatus places one call with a Go phone's UA and returns the final status of the INVITE
// (a 2xx is hung up at once).
func sipStatus(t *testing.T, d *daemonProc, room string) int {
	t.Helper()
	ua, err := gophone.NewUA(netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(d.sip)))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	call, err := ua.Invite(ctx, "probe", "", room, gophone.Offer(time.Now().UnixNano(), 40000, codec.PCMU))
	var refused *gophone.StatusError
	switch {
	case err == nil:
		_ = call.Bye(ctx)
		return 200
	case errors.As(err, &refused):
		return refused.Code
	}
	t.Fatalf("no final response: %v", err)
	return 0
}

// generatedToken waits for the API token that a confd started without one prints with the
// moderator link, and returns it.
func (d *daemonProc) generatedToken(t *testing.T) string {
	t.Helper()
	re := regexp.MustCompile(`api_token=(\S+) moderator="?([^"\s]+)`)
	var m []string
	if !testkit.WaitFor(10*time.Second, func() bool { m = re.FindStringSubmatch(d.Log()); return m != nil }) {
		t.Fatalf("no generated API token in the log:\n%s", d.Log())
	}
	if want := d.URL("/#moderate?token=") + m[1]; m[2] != want {
		t.Errorf("moderator link %q, want %q", m[2], want)
	}
	return m[1]
}

// api is testkit's Daemon.API (method path with the API token, no body) that fails the test
// when no answer comes.
func (d *daemonProc) api(t *testing.T, method, token, path string) (int, []byte) {
	t.Helper()
	status, out, err := d.API(method, path, token, nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return status, out
}

func TestHealthAndAPIOnDefaults(t *testing.T) {
	t.Setenv("CONFD_API_TOKEN", "")
	d := startDaemon(t)
	resp, err := http.Get(d.URL("/api/rooms"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("GET /api/rooms without the token, from loopback: %d, want 401", resp.StatusCode)
	}
	token := d.generatedToken(t)
	status, out := d.api(t, "GET", token, "/api/rooms")
	var rooms []map[string]any
	if err := json.Unmarshal(out, &rooms); err != nil || status != 200 {
		t.Fatalf("GET /api/rooms: %d %v", status, err)
	}
	if status, _ := d.api(t, "GET", token, "/api/rooms/no-such-room"); status != 404 {
		t.Errorf("unknown room: %d, want 404", status)
	}
	resp, err = http.Get(d.URL("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "confd_rooms") || !strings.Contains(string(body), "confd_webrtc_calls 0") {
		t.Errorf("GET /metrics: %d\n%.300s", resp.StatusCode, body)
	}
	// A SIP response confd sends is counted by code: an INVITE to a bad room name gets 404.
	if code := sipStatus(t, d, "bad.name"); code != 404 {
		t.Errorf("INVITE to a bad room name: %d, want 404", code)
	}
	resp, err = http.Get(d.URL("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `confd_sip_responses_sent_total{code="404"} 1`) {
		t.Errorf("/metrics does not count the 404:\n%s", body)
	}
}

func TestBadFlagsExitWithAClearError(t *testing.T) {
	out, err := exec.Command(testkit.Confd(t), "-rtp", "9-1").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "port range") {
		t.Errorf("exit %v, output %q", err, out)
	}
}

// TestPhonesOnTwoCodecsThenDrain: a PCMU and an Opus baresip phone hear each other and not
// themselves; on SIGTERM with -drain a new INVITE gets 503, both phones get a BYE by the
// deadline, and confd exits 0 (docs/SPEC.md "Start").
func TestPhonesOnTwoCodecsThenDrain(t *testing.T) {
	baresip.Require(t)
	d := startDaemon(t, "-drain", "2s", "-api-token", "drain-token")
	alice := baresip.Call(t, baresip.Config{User: "alice", Codec: baresip.PCMU, ToneHz: 440}, d.roomURI("drain"))
	bob := baresip.Call(t, baresip.Config{User: "bob", Codec: baresip.Opus, ToneHz: 1000}, d.roomURI("drain"))
	// Each phone joins the room when confd takes its ACK, a moment after the phone sent it.
	participants := func() int {
		_, out := d.api(t, "GET", "drain-token", "/api/rooms/drain")
		var st struct{ Participants []json.RawMessage }
		_ = json.Unmarshal(out, &st)
		return len(st.Participants)
	}
	if !testkit.WaitFor(10*time.Second, func() bool { return participants() == 2 }) {
		t.Fatalf("the room has %d participants, want the 2 phones", participants())
	}
	if status, out := d.api(t, "POST", "drain-token", "/api/rooms/drain/recording"); status != http.StatusCreated {
		t.Fatalf("start recording: %d %s", status, out)
	}
	time.Sleep(3 * time.Second)

	start := time.Now()
	if err := d.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if code := sipStatus(t, d, "drain"); code != 503 {
		t.Errorf("INVITE while draining: %d, want 503", code)
	}
	for _, p := range []*baresip.Phone{alice, bob} {
		if _, err := p.WaitClosed(8 * time.Second); err != nil {
			t.Errorf("%s got no BYE: %v", p, err)
		}
	}
	select {
	case <-d.Exited():
	case <-time.After(15 * time.Second):
		t.Fatal("confd did not exit after the drain")
	}
	if code := d.ExitCode(); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	if took := time.Since(start); took < 2*time.Second || took > 10*time.Second {
		t.Errorf("drain took %v, want about the 2s drain time", took)
	}
	// The recording was finished at shutdown: its last Ogg page ends the stream (RFC 3533).
	files, _ := filepath.Glob(filepath.Join(d.dir, "recordings", "drain-*.opus"))
	if len(files) != 1 {
		t.Fatalf("recordings %v, want one", files)
	}
	ogg, _ := os.ReadFile(files[0])
	last := bytes.LastIndex(ogg, []byte("OggS"))
	if len(ogg) < 10000 || last < 0 || ogg[last+5]&0x04 == 0 {
		t.Errorf("recording %s: %d bytes, last page flags %#x: not finished", files[0], len(ogg), ogg[last+5])
	}
	for _, c := range []struct {
		p          *baresip.Phone
		own, other float64
	}{{alice, 440, 1000}, {bob, 1000, 440}} {
		pcm, rate, err := c.p.Recorded()
		if err != nil {
			t.Fatal(err)
		}
		if len(pcm) > rate {
			pcm = pcm[rate/2:] // the first half second: jitter buffer and codec start
		}
		// The median of 200 ms pieces: a Goertzel sum over the whole call reads a 440 Hz tone
		// that confd's jitter buffer spliced a few times (a loaded machine) as 20 dB fainter.
		other, own := audiotest.MedianToneLevel(pcm, rate, c.other), audiotest.MedianToneLevel(pcm, rate, c.own)
		if other < -30 || other-own < 20 {
			t.Errorf("%s hears the other at %.1f dBFS and itself at %.1f", c.p, other, own)
		}
	}
}

func TestSelfSignedHTTPSServesThePage(t *testing.T) {
	d := startDaemon(t, "-tls-self-signed")
	resp, err := d.Get("/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || !strings.Contains(string(body), "<html") {
		t.Errorf("GET / over HTTPS: %d, TLS %v, %d bytes", resp.StatusCode, resp.TLS != nil, len(body))
	}
}

// TestRestartKeepsIDsUniqueAndRoomsDeclared is issue 10's restart: confd runs, people join and
// leave, confd stops and starts again on the same data directory. A webhook receiver that
// deduplicates by id (or keeps the highest id seen) must lose nothing of the second run: no
// event or participant id of the second run may equal one of the first, and every event id of
// the second run sorts after the first run's. A room declared with PUT is still declared.
func TestRestartKeepsIDsUniqueAndRoomsDeclared(t *testing.T) {
	dataDir := t.TempDir()
	withData := func(c *config.Config) { c.DataDir = dataDir }
	run := func(declare bool) (events, parts []string, base string, stop func()) {
		d, base := inProcess(t, "tok", config.HTTPSecurity{}, withData)
		if declare {
			if code := send(t, "PUT", base+"/api/rooms/weekly", `{"pin":"4321"}`, "Authorization", "Bearer tok", "Content-Type", "application/json"); code != 200 {
				t.Fatalf("PUT: %d", code)
			}
		}
		sub := d.bridge.Bus().Subscribe("", 64, "")
		for _, name := range []string{"ann", "bob"} {
			p := joinSilent(t, d, "standup", name)
			parts = append(parts, p.ID())
			p.Leave("bye")
		}
		deadline := time.After(10 * time.Second)
		for len(events) < 6 { // room_started, join, leave, room_finished, room_started, ...
			select {
			case e := <-sub.C:
				events = append(events, e.ID)
			case <-deadline:
				t.Fatalf("events %v", events)
			}
		}
		sub.Close()
		return events, parts, base, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d.shutdown(ctx) // inProcess's cleanup shuts it down again: a no-op
		}
	}
	firstEvents, firstParts, _, stop := run(true)
	stop()
	secondEvents, secondParts, base, _ := run(false)

	if !slices.IsSorted(slices.Concat(firstEvents, secondEvents)) {
		t.Errorf("event ids out of order across the restart: %v then %v", firstEvents, secondEvents)
	}
	all := slices.Concat(firstEvents, secondEvents, firstParts, secondParts)
	slices.Sort(all)
	if len(slices.Compact(all)) != len(firstEvents)+len(secondEvents)+len(firstParts)+len(secondParts) {
		t.Errorf("an id repeats across the restart: events %v %v, participants %v %v", firstEvents, secondEvents, firstParts, secondParts)
	}
	code, raw := apiCall(t, "GET", base+"/api/rooms/weekly", "tok", "")
	var st bridge.RoomState
	if err := json.Unmarshal(raw, &st); err != nil || code != 200 || !st.Declared || st.Settings.PIN != "4321" {
		t.Errorf("declared room after the restart: %d %+v %v", code, st, err)
	}
}

// TestJSONLogs: -log-format json writes every line as one JSON object with time, level and msg,
// for log collectors.
func TestJSONLogs(t *testing.T) {
	d := startDaemon(t, "-log-format", "json", "-api-token", "tok", "-data-dir", filepath.Join(t.TempDir(), "state"))
	// Ready can answer before the start-up line is written: wait for it.
	waitLog(t, d, `"msg":"confd started"`)
	lines := strings.Split(strings.TrimSpace(d.Log()), "\n")
	started := false
	for _, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("not a JSON line: %q", line)
			continue
		}
		if m["time"] == nil || m["level"] == nil {
			t.Errorf("line without time or level: %q", line)
		}
		started = started || m["msg"] == "confd started"
	}
	if !started {
		t.Errorf("no \"confd started\" line in %q", lines)
	}
}
