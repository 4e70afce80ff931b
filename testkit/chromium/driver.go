package chromium

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
	"time"

	"confd/testkit"
	"confd/testkit/audiotest"
)

// Path is Debian's Chromium; CONFD_CHROMIUM overrides it.
func Path() string {
	if p := os.Getenv("CONFD_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// Require skips the test when Chromium, node or the driver's node modules are missing, or
// fails it when CI is set, where every real-peer test has to run.
func Require(t testkit.TB) {
	t.Helper()
	var missing []string
	if _, err := os.Stat(Path()); err != nil {
		missing = append(missing, "chromium ("+Path()+")")
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node")
	}
	if _, err := os.Stat(filepath.Join(driverDir(), "node_modules", "playwright-core")); err != nil {
		missing = append(missing, "e2e/browser/node_modules (npm ci)")
	}
	if len(missing) == 0 {
		return
	}
	msg := "chromium: missing " + strings.Join(missing, ", ") + "; run scripts/setup.sh test"
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set, so browser tests must run)", msg)
	}
	t.Skip(msg)
}

// Spec is one browser to open on confd's page.
type Spec struct {
	Name string  // typed into "Your name"
	Room string  // typed into "Room name"
	Mode string  // "whip" or "sip"
	Hz   float64 // its fake microphone's tone
	// Attempts, when set, replace Room: each is a room name and a PIN typed before clicking
	// Join, and a refused attempt is followed by the next, as a person corrects a mistake.
	Attempts []Attempt
	// DenyMic makes the browser refuse the microphone, as a person who clicked "Block" would.
	DenyMic bool
}

// Attempt is one try at joining: the room and PIN typed into the form.
type Attempt struct {
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
	Attempts       []Attempt `json:"attempts,omitempty"`
	DenyMic        bool      `json:"denyMic,omitempty"`
}

// Event is one line drive.mjs prints.
type Event struct {
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

// Browsers is a running drive.mjs with its Chromium instances, all joined.
type Browsers struct {
	t      testkit.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan Event
	stderr *testkit.LockedBuffer
	specs  map[string]driveBrowser
	exited chan struct{}
	// Refused holds, by browser name, the alert its page showed when its last attempt to join
	// failed; Alerts every alert shown on the way, attempt by attempt.
	Refused map[string]string
	Alerts  map[string][]string
}

// Measurement is what one browser heard.
type Measurement struct {
	PCM    []int16
	Rate   int
	People []string
}

// artifactDir is where screenshots and recordings go: CONFD_E2E_ARTIFACTS/TEST when set (kept),
// else the test's temporary folder.
func artifactDir(t testkit.TB) string {
	if root := os.Getenv("CONFD_E2E_ARTIFACTS"); root != "" {
		dir := filepath.Join(root, strings.ReplaceAll(t.Name(), "/", "_"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// Join starts one Chromium per spec on confd's page at pageURL, has each type its room and
// name and click Join, and returns once every page says it is connected (or refused). Each has
// a fake microphone playing its own tone at -12 dBFS; freqs are the tones the pages measure.
// The browsers leave and close when the test ends.
func Join(t testkit.TB, pageURL string, freqs []float64, specs ...Spec) *Browsers {
	t.Helper()
	Require(t)
	dir := artifactDir(t)
	cfg := driveConfig{URL: pageURL, Chromium: Path(), TimeoutMS: 30000, CaptureSeconds: 1.2, Freqs: freqs}
	b := &Browsers{t: t, events: make(chan Event, 64), stderr: &testkit.LockedBuffer{}, specs: map[string]driveBrowser{}, exited: make(chan struct{}), Refused: map[string]string{}, Alerts: map[string][]string{}}
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
	b.cmd = exec.Command("node", filepath.Join(driverDir(), "drive.mjs"), cfgPath)
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
			var ev Event
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
	t.Cleanup(b.Close)
	for settled := 0; settled < len(specs); {
		ev := b.Await("joined|refused", 120*time.Second) // the driver times out first, and says where
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
	b.Await("ready", 10*time.Second)
	return b
}

// Await returns the next event of type want (or of one of "a|b"), failing the test on an "error" event, on the
// driver's exit, or after timeout.
func (b *Browsers) Await(want string, timeout time.Duration) Event {
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

// Send writes one command line to the driver (drive.mjs reads "measure", "screenshot",
// "mute NAME", "moderate NAME ACTION [TARGET]", "leave").
func (b *Browsers) Send(cmd string) {
	b.t.Helper()
	if _, err := fmt.Fprintln(b.stdin, cmd); err != nil {
		b.t.Fatalf("browser driver: %s: %v", cmd, err)
	}
}

// Measure records what every page hears and returns it by browser name.
func (b *Browsers) Measure() map[string]Measurement {
	b.t.Helper()
	b.Send("measure")
	out := map[string]Measurement{}
	for range len(b.specs) - len(b.Refused) {
		ev := b.Await("measured", 30*time.Second)
		rate, channels, pcm, err := audiotest.ReadWAV(ev.WAV)
		if err != nil || channels != 1 {
			b.t.Fatalf("browser %s recording %s: %v (%d channels)", ev.Browser, ev.WAV, err, channels)
		}
		b.t.Logf("browser %s heard (in-page Goertzel, dBFS) %v; participant list %q", ev.Browser, ev.Levels, ev.People)
		out[ev.Browser] = Measurement{PCM: pcm, Rate: rate, People: ev.People}
	}
	b.Await("measured-all", 5*time.Second)
	return out
}

// Screenshot saves every page as PNG and returns the paths by browser name.
func (b *Browsers) Screenshot() map[string]string {
	b.t.Helper()
	b.Send("screenshot")
	b.Await("screenshot", 20*time.Second)
	out := map[string]string{}
	for name, s := range b.specs {
		out[name] = s.Screenshot
	}
	return out
}

// Mute clicks Mute in browser name's page.
func (b *Browsers) Mute(name string) {
	b.t.Helper()
	b.Send("mute " + name)
	ev := b.Await("muted", 20*time.Second)
	b.t.Logf("browser %s muted: %s", name, ev.Status)
}

// Leave clicks Leave in every page and waits for the driver to exit.
func (b *Browsers) Leave() {
	b.t.Helper()
	b.Send("leave")
	b.Await("left", 20*time.Second)
}

// Close ends the driver if it still runs: EOF on its input makes it leave, then it is killed.
func (b *Browsers) Close() {
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

// driverDir is e2e/browser, where drive.mjs and its node modules (playwright-core) are: found
// from the module's root, above the test's working directory.
func driverDir() string {
	dir, err := os.Getwd()
	if err != nil {
		return filepath.Join("e2e", "browser")
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "e2e", "browser")
		}
		if filepath.Dir(d) == d {
			return filepath.Join(dir, "browser")
		}
	}
}
