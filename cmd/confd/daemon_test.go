package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"confd/internal/audiotest"
	"confd/internal/peer"
)

// binary is confd built once for the tests that run it as a process.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "confd-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "confd")
	if out, err := exec.Command("go", "build", "-tags", "nolibopusfile", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freePort returns a port free for both UDP and TCP on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// daemonProc is a confd process started by a test.
type daemonProc struct {
	scheme    string
	dir       string
	cmd       *exec.Cmd
	sip, http int
	log       *lockedBuffer
	exited    chan struct{}
}

// lockedBuffer is the daemon's output, read by the test while the process writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// rtpBlocks counts the RTP port blocks handed to this package's daemons (nextRTPBlock).
var rtpBlocks atomic.Int32

// nextRTPBlock returns the low port of the next block of 40 in 32000-35999, this package's
// share (e2e has 20000-29999, e2e/phones 36000-39999, baresip 40000-49999): daemons running at
// once never share a block.
func nextRTPBlock() int { return 32000 + 40*int(rtpBlocks.Add(1)%100) }

func startDaemon(t *testing.T, args ...string) *daemonProc {
	t.Helper()
	d := &daemonProc{scheme: "http", sip: freePort(t), http: freePort(t), log: &lockedBuffer{}, exited: make(chan struct{})}
	if slices.Contains(args, "-tls-self-signed") {
		d.scheme = "https"
	}
	rtpLow := nextRTPBlock()
	args = append([]string{
		"-sip", fmt.Sprintf("127.0.0.1:%d", d.sip),
		"-http", fmt.Sprintf("127.0.0.1:%d", d.http),
		"-rtp", fmt.Sprintf("%d-%d", rtpLow, rtpLow+39),
	}, args...)
	d.cmd = exec.Command(binary, args...)
	d.dir = t.TempDir() // recordings land here
	d.cmd.Dir = d.dir
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		<-d.exited
		if t.Failed() {
			t.Logf("confd log:\n%s", d.log.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := d.get("/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("confd not ready: %v\n%s", err, d.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *daemonProc) url(path string) string {
	return fmt.Sprintf("%s://127.0.0.1:%d%s", d.scheme, d.http, path)
}

// get fetches path, trusting the daemon's self-signed certificate.
func (d *daemonProc) get(path string) (*http.Response, error) {
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	return c.Get(d.url(path))
}

func (d *daemonProc) roomURI(room string) string {
	return fmt.Sprintf("sip:%s@127.0.0.1:%d", room, d.sip)
}

// sipStatus sends one INVITE over UDP and returns the status code of the first final response.
func sipStatus(t *testing.T, d *daemonProc, room string) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	port := c.LocalAddr().(*net.UDPAddr).Port
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"
	msg := fmt.Sprintf("INVITE sip:%s@127.0.0.1:%d SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-drain-%d\r\nMax-Forwards: 70\r\n"+
		"From: <sip:probe@127.0.0.1>;tag=p1\r\nTo: <sip:%s@127.0.0.1>\r\nCall-ID: drain-%d@test\r\n"+
		"CSeq: 1 INVITE\r\nContact: <sip:probe@127.0.0.1:%d>\r\nContent-Type: application/sdp\r\n"+
		"Content-Length: %d\r\n\r\n%s", room, d.sip, port, time.Now().UnixNano(), room, time.Now().UnixNano(), port, len(sdp), sdp)
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: d.sip}
	if _, err := c.WriteTo([]byte(msg), to); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		_ = c.SetReadDeadline(deadline)
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			break
		}
		line, _ := bufio.NewReader(bytes.NewReader(buf[:n])).ReadString('\n')
		var code int
		if _, err := fmt.Sscanf(line, "SIP/2.0 %d", &code); err == nil && code >= 200 {
			return code
		}
	}
	t.Fatal("no final response")
	return 0
}

// generatedToken waits for the API token that a confd started without one prints with the
// moderator link, and returns it.
func (d *daemonProc) generatedToken(t *testing.T) string {
	t.Helper()
	re := regexp.MustCompile(`api_token=(\S+) moderator="?([^"\s]+)`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := re.FindStringSubmatch(d.log.String()); m != nil {
			if want := d.url("/#moderate?token=") + m[1]; m[2] != want {
				t.Errorf("moderator link %q, want %q", m[2], want)
			}
			return m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no generated API token in the log:\n%s", d.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// apiGet is GET path with the API token.
func (d *daemonProc) apiGet(t *testing.T, token, path string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", d.url(path), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestHealthAndAPIOnDefaults(t *testing.T) {
	t.Setenv("CONFD_API_TOKEN", "")
	d := startDaemon(t)
	resp, err := http.Get(d.url("/api/rooms"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("GET /api/rooms without the token, from loopback: %d, want 401", resp.StatusCode)
	}
	token := d.generatedToken(t)
	resp = d.apiGet(t, token, "/api/rooms")
	var rooms []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&rooms); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /api/rooms: %d %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	resp = d.apiGet(t, token, "/api/rooms/no-such-room")
	if resp.StatusCode != 404 {
		t.Errorf("unknown room: %d, want 404", resp.StatusCode)
	}
	resp.Body.Close()
	resp, err = http.Get(d.url("/metrics"))
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
	resp, err = http.Get(d.url("/metrics"))
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
	out, err := exec.Command(binary, "-rtp", "9-1").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "port range") {
		t.Errorf("exit %v, output %q", err, out)
	}
}

// TestPhonesOnTwoCodecsThenDrain: a PCMU and an Opus baresip phone hear each other and not
// themselves; on SIGTERM with -drain a new INVITE gets 503, both phones get a BYE by the
// deadline, and confd exits 0 (docs/SPEC.md "Start").
func TestPhonesOnTwoCodecsThenDrain(t *testing.T) {
	peer.RequireBaresip(t)
	d := startDaemon(t, "-drain", "2s", "-api-token", "drain-token")
	alice := peer.Start(t, peer.BaresipConfig{User: "alice", Codec: peer.PCMU, ToneHz: 440})
	bob := peer.Start(t, peer.BaresipConfig{User: "bob", Codec: peer.Opus, ToneHz: 1000})
	for _, p := range []*peer.Baresip{alice, bob} {
		if err := p.Dial(d.roomURI("drain")); err != nil {
			t.Fatal(err)
		}
		if _, err := p.WaitEstablished(10 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	// Each phone joins the room when confd takes its ACK, a moment after the phone sent it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest("GET", d.url("/api/rooms/drain"), nil)
		req.Header.Set("Authorization", "Bearer drain-token")
		var st struct{ Participants []json.RawMessage }
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
		}
		if len(st.Participants) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the room has %d participants, want the 2 phones", len(st.Participants))
		}
		time.Sleep(20 * time.Millisecond)
	}
	req, _ := http.NewRequest("POST", d.url("/api/rooms/drain/recording"), nil)
	req.Header.Set("Authorization", "Bearer drain-token")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("start recording: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	time.Sleep(3 * time.Second)

	start := time.Now()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if code := sipStatus(t, d, "drain"); code != 503 {
		t.Errorf("INVITE while draining: %d, want 503", code)
	}
	for _, p := range []*peer.Baresip{alice, bob} {
		if _, err := p.WaitClosed(8 * time.Second); err != nil {
			t.Errorf("%s got no BYE: %v", p, err)
		}
	}
	select {
	case <-d.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("confd did not exit after the drain")
	}
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
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
		p          *peer.Baresip
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
	resp, err := d.get("/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || !strings.Contains(string(body), "<html") {
		t.Errorf("GET / over HTTPS: %d, TLS %v, %d bytes", resp.StatusCode, resp.TLS != nil, len(body))
	}
}
