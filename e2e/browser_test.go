package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"confd/internal/testkit"
	"confd/internal/testkit/audiotest"
)

// chromiumPath is Debian's Chromium; CONFD_CHROMIUM overrides it.
func chromiumPath() string {
	if p := os.Getenv("CONFD_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// requireBrowser skips the test when Chromium, node or the driver's node modules are missing,
// or fails it when CI is set, where every real-peer test has to run.
func requireBrowser(t *testing.T) {
	t.Helper()
	var missing []string
	if _, err := os.Stat(chromiumPath()); err != nil {
		missing = append(missing, "chromium ("+chromiumPath()+")")
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node")
	}
	if _, err := os.Stat(filepath.Join("browser", "node_modules", "playwright-core")); err != nil {
		missing = append(missing, "e2e/browser/node_modules (npm ci)")
	}
	if len(missing) == 0 {
		return
	}
	msg := "e2e: missing " + strings.Join(missing, ", ") + "; run scripts/setup.sh test"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set, so browser tests must run)")
	}
	t.Skip(msg)
}

// browserSpec is one browser to open on confd's page.
type browserSpec struct {
	Name string  // typed into "Your name"
	Room string  // typed into "Room name"
	Mode string  // "whip" or "sip"
	Hz   float64 // its fake microphone's tone
	// Attempts, when set, replace Room: each is a room name and a PIN typed before clicking
	// Join, and a refused attempt is followed by the next, as a person corrects a mistake.
	Attempts []attempt
	// DenyMic makes the browser refuse the microphone, as a person who clicked "Block" would.
	DenyMic bool
}

// attempt is one try at joining: the room and PIN typed into the form.
type attempt struct {
	Room string `json:"room"`
	PIN  string `json:"pin"`
}

// driveConfig is drive.mjs's CONFIG file.
type driveConfig struct {
	URL            string         `json:"url"`
	Chromium       string         `json:"chromium"`
	TimeoutMS      int            `json:"timeoutMs"`
	CaptureSeconds float64        `json:"captureSeconds"`
	Freqs          []float64      `json:"freqs"`
	Browsers       []driveBrowser `json:"browsers"`
}

type driveBrowser struct {
	Name           string    `json:"name"`
	Room           string    `json:"room"`
	Mode           string    `json:"mode"`
	WAV            string    `json:"wav"`
	Profile        string    `json:"profile"`
	Record         string    `json:"record"`
	Screenshot     string    `json:"screenshot,omitempty"`
	ScreenshotJoin string    `json:"screenshotJoin,omitempty"`
	Attempts       []attempt `json:"attempts,omitempty"`
	DenyMic        bool      `json:"denyMic,omitempty"`
}

// driveEvent is one line drive.mjs prints.
type driveEvent struct {
	Event   string             `json:"event"`
	Browser string             `json:"browser"`
	Message string             `json:"message"`
	Alert   string             `json:"alert"`
	Status  string             `json:"status"`
	Console []string           `json:"console"`
	Rate    int                `json:"rate"`
	WAV     string             `json:"wav"`
	Levels  map[string]float64 `json:"levels"`
	People  []string           `json:"people"`
	Final   bool               `json:"final"`
}

// browsers is a running drive.mjs with its Chromium instances, all joined.
type browsers struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan driveEvent
	stderr *testkit.LockedBuffer
	specs  map[string]driveBrowser
	exited chan struct{}
	// Refused holds, by browser name, the alert its page showed when its last attempt to join
	// failed; Alerts every alert shown on the way, attempt by attempt.
	Refused map[string]string
	Alerts  map[string][]string
}

// measurement is what one browser heard.
type measurement struct {
	PCM    []int16
	Rate   int
	People []string
}

// artifactDir is where screenshots and recordings go: CONFD_E2E_ARTIFACTS/TEST when set (kept),
// else the test's temporary folder.
func artifactDir(t *testing.T) string {
	if root := os.Getenv("CONFD_E2E_ARTIFACTS"); root != "" {
		dir := filepath.Join(root, strings.ReplaceAll(t.Name(), "/", "_"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// joinBrowsers starts one Chromium per spec on d's page, has each type its room and name and
// click Join, and returns once every page says it is connected. Each has a fake microphone
// playing its own tone at -12 dBFS. The browsers leave and close when the test ends.
func joinBrowsers(t *testing.T, d *daemon, freqs []float64, specs ...browserSpec) *browsers {
	t.Helper()
	requireBrowser(t)
	dir := artifactDir(t)
	cfg := driveConfig{URL: d.URL("/"), Chromium: chromiumPath(), TimeoutMS: 30000, CaptureSeconds: 1.2, Freqs: freqs}
	b := &browsers{t: t, events: make(chan driveEvent, 64), stderr: &testkit.LockedBuffer{}, specs: map[string]driveBrowser{}, exited: make(chan struct{}), Refused: map[string]string{}, Alerts: map[string][]string{}}
	for i, s := range specs {
		wav := filepath.Join(t.TempDir(), "mic.wav")
		// Chromium loops the file; 10 s keeps the loop's seam rare.
		if err := audiotest.WriteWAV(wav, 48000, 1, audiotest.Generate(s.Hz, 0.25, 48000, 10*48000)); err != nil {
			t.Fatal(err)
		}
		db := driveBrowser{
			Name: s.Name, Room: s.Room, Mode: s.Mode, WAV: wav, Profile: t.TempDir(), Attempts: s.Attempts, DenyMic: s.DenyMic,
			Record:     filepath.Join(dir, s.Name+"-heard.wav"),
			Screenshot: filepath.Join(dir, s.Name+"-call.png"),
		}
		if i == 0 {
			db.ScreenshotJoin = filepath.Join(dir, s.Name+"-join.png")
		}
		cfg.Browsers = append(cfg.Browsers, db)
		b.specs[s.Name] = db
	}
	cfgPath := filepath.Join(t.TempDir(), "drive.json")
	raw, _ := json.Marshal(cfg)
	if err := os.WriteFile(cfgPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	b.cmd = exec.Command("node", filepath.Join("browser", "drive.mjs"), cfgPath)
	b.cmd.Stderr = b.stderr
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var err error
	if b.stdin, err = b.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev driveEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				b.stderr.Write([]byte("stdout: " + sc.Text() + "\n"))
				continue
			}
			b.events <- ev
		}
		// Wait only after the last read (os/exec: StdoutPipe).
		_ = b.cmd.Wait()
		close(b.exited)
		close(b.events)
	}()
	t.Cleanup(b.close)
	for settled := 0; settled < len(specs); {
		ev := b.await("joined|refused", 120*time.Second) // the driver times out first, and says where
		if ev.Event == "refused" {
			t.Logf("browser %s was refused: %q", ev.Browser, ev.Alert)
			b.Alerts[ev.Browser] = append(b.Alerts[ev.Browser], ev.Alert)
			if !ev.Final {
				continue
			}
			b.Refused[ev.Browser] = ev.Alert
		} else {
			t.Logf("browser %s joined: %s", ev.Browser, ev.Status)
		}
		settled++
	}
	b.await("ready", 10*time.Second)
	return b
}

// await returns the next event of type want (or of one of "a|b"), failing the test on an "error" event, on the
// driver's exit, or after timeout.
func (b *browsers) await(want string, timeout time.Duration) driveEvent {
	b.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-b.events:
			if !ok {
				b.t.Fatalf("browser driver exited while waiting for %q:\n%s", want, b.stderr.String())
			}
			if ev.Event == "error" {
				b.t.Fatalf("browser %s: %s\n  page alert: %q\n  page status: %q\n  console:\n    %s\n  driver stderr:\n%s",
					ev.Browser, ev.Message, ev.Alert, ev.Status, strings.Join(ev.Console, "\n    "), b.stderr.String())
			}
			if slices.Contains(strings.Split(want, "|"), ev.Event) {
				return ev
			}
		case <-deadline:
			b.t.Fatalf("browser driver: no %q within %v:\n%s", want, timeout, b.stderr.String())
		}
	}
}

func (b *browsers) send(cmd string) {
	b.t.Helper()
	if _, err := fmt.Fprintln(b.stdin, cmd); err != nil {
		b.t.Fatalf("browser driver: %s: %v", cmd, err)
	}
}

// measure records what every page hears and returns it by browser name.
func (b *browsers) measure() map[string]measurement {
	b.t.Helper()
	b.send("measure")
	out := map[string]measurement{}
	for range len(b.specs) - len(b.Refused) {
		ev := b.await("measured", 30*time.Second)
		rate, channels, pcm, err := audiotest.ReadWAV(ev.WAV)
		if err != nil || channels != 1 {
			b.t.Fatalf("browser %s recording %s: %v (%d channels)", ev.Browser, ev.WAV, err, channels)
		}
		b.t.Logf("browser %s heard (in-page Goertzel, dBFS) %v; participant list %q", ev.Browser, ev.Levels, ev.People)
		out[ev.Browser] = measurement{PCM: pcm, Rate: rate, People: ev.People}
	}
	b.await("measured-all", 5*time.Second)
	return out
}

// screenshot saves every page as PNG and returns the paths by browser name.
func (b *browsers) screenshot() map[string]string {
	b.t.Helper()
	b.send("screenshot")
	b.await("screenshot", 20*time.Second)
	out := map[string]string{}
	for name, s := range b.specs {
		out[name] = s.Screenshot
	}
	return out
}

// mute clicks Mute in browser name's page.
func (b *browsers) mute(name string) {
	b.t.Helper()
	b.send("mute " + name)
	ev := b.await("muted", 20*time.Second)
	b.t.Logf("browser %s muted: %s", name, ev.Status)
}

// leave clicks Leave in every page and waits for the driver to exit.
func (b *browsers) leave() {
	b.t.Helper()
	b.send("leave")
	b.await("left", 20*time.Second)
}

// close ends the driver if it still runs: EOF on its input makes it leave, then it is killed.
func (b *browsers) close() {
	_ = b.stdin.Close()
	select {
	case <-b.exited:
	case <-time.After(15 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.exited
	}
	if b.t.Failed() {
		b.t.Logf("browser driver stderr:\n%s", b.stderr.String())
	}
}
