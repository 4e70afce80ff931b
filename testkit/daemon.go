package testkit

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// ErrNotReady means a daemon did not answer its ready check in time, or exited before it did.
var ErrNotReady = errors.New("testkit: confd not ready")

// BuildConfd builds cmd/confd into dir and returns the binary's path. It runs from anywhere in
// the module: the package is named by its import path.
func BuildConfd(dir string) (string, error) {
	bin := filepath.Join(dir, "confd")
	out, err := exec.Command("go", "build", "-tags", "nolibopusfile", "-o", bin, "confd/cmd/confd").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("testkit: go build confd/cmd/confd: %v\n%s", err, out)
	}
	return bin, nil
}

// buildDir holds the confd that ConfdBinary built; RemoveBuild removes it.
var buildDir string

// confdBinary is cmd/confd built once per process, on first use, so that a test binary whose
// tests start no daemon (unit tests, fuzz workers, tests that skip for a missing peer) builds
// nothing.
var confdBinary = sync.OnceValues(func() (string, error) {
	if bin := os.Getenv("CONFD_E2E_BINARY"); bin != "" {
		return bin, nil
	}
	dir, err := os.MkdirTemp("", "confd-bin-")
	if err != nil {
		return "", err
	}
	buildDir = dir
	return BuildConfd(dir)
})

// ConfdBinary returns cmd/confd built for this process, building it the first time; the
// environment variable CONFD_E2E_BINARY names a binary to use instead. A TestMain that lets
// tests call it removes the build with RunMain.
func ConfdBinary() (string, error) { return confdBinary() }

// Confd is ConfdBinary that fails the test when the build fails.
func Confd(t TB) string {
	t.Helper()
	return must(t, confdBinary)
}

// Runner is what RunMain runs: *testing.M.
type Runner interface{ Run() int }

// RunMain is a TestMain for a package that starts daemons: it runs the tests, removes the confd
// that ConfdBinary built, and exits with the tests' code.
func RunMain(m Runner) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// DaemonConfig says how Launch runs confd. The caller chooses the flags (its port share, its
// API token); the kit runs the process, collects its log and waits until it is ready.
type DaemonConfig struct {
	// Args are confd's flags.
	Args []string
	// HTTP is the host:port of confd's -http, for the ready check and URL.
	HTTP string
	// TLS says -http serves HTTPS (-tls-self-signed): the ready check and Get trust any
	// certificate.
	TLS bool
	// Env is added to the test's environment (CONFD_API_TOKEN, kept out of ps).
	Env []string
	// Dir is confd's working directory (recordings land there); empty is the test's.
	Dir string
	// Wrap is a command that runs confd, such as taskset -c 1 or chrt -f 10; empty runs it
	// directly.
	Wrap []string
	// OnStart runs with confd's pid as soon as the process has started, before the ready check
	// (setpriority on it); an error stops the daemon.
	OnStart func(pid int) error
	// ReadyPath is the path that answers 200 when confd is ready. Default /readyz.
	ReadyPath string
	// ReadyTimeout bounds the wait for ReadyPath. Default 10 s.
	ReadyTimeout time.Duration
	// StopGrace is how long the cleanup of StartDaemon waits after SIGTERM before it kills;
	// zero kills at once.
	StopGrace time.Duration
}

// Daemon is one confd process started by Launch or StartDaemon.
type Daemon struct {
	cfg  DaemonConfig
	proc *Process
	log  *LockedBuffer
}

// Launch starts bin as cfg says and waits until cfg.ReadyPath answers 200. A daemon that exits
// or is not ready in time is stopped and ErrNotReady returned with its log.
func Launch(bin string, cfg DaemonConfig) (*Daemon, error) {
	if cfg.ReadyPath == "" {
		cfg.ReadyPath = "/readyz"
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 10 * time.Second
	}
	d := &Daemon{cfg: cfg, log: &LockedBuffer{}}
	argv := append(append(append([]string(nil), cfg.Wrap...), bin), cfg.Args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	if len(cfg.Env) > 0 {
		cmd.Env = append(os.Environ(), cfg.Env...)
	}
	cmd.Dir = cfg.Dir
	cmd.Stdout, cmd.Stderr = d.log, d.log
	var err error
	if d.proc, err = StartProcess(cmd); err != nil {
		return nil, fmt.Errorf("testkit: start confd: %w", err)
	}
	if cfg.OnStart != nil {
		if err := cfg.OnStart(d.PID()); err != nil {
			d.Stop(5 * time.Second)
			return nil, err
		}
	}
	var lastErr error
	for deadline := time.Now().Add(cfg.ReadyTimeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if !d.Alive() {
			return nil, fmt.Errorf("%w: it exited:\n%s", ErrNotReady, d.Log())
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.URL(cfg.ReadyPath), nil)
		resp, err := d.client().Do(req)
		cancel()
		if err != nil {
			lastErr = err
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return d, nil
		}
		lastErr = fmt.Errorf("%s: %s", cfg.ReadyPath, resp.Status)
	}
	d.Stop(0)
	return nil, fmt.Errorf("%w within %v (%v):\n%s", ErrNotReady, cfg.ReadyTimeout, lastErr, d.Log())
}

// startAttempts bounds StartDaemon's launches: a port found free may be taken by another test
// before confd binds it.
const startAttempts = 3

// StartDaemon launches confd with the config that config returns (called anew for each
// attempt, so that each takes fresh ports), up to three times, and fails the test when none is
// ready. When the test ends the daemon is stopped (cfg.StopGrace) and, if the test failed, its
// log printed.
func StartDaemon(t TB, config func() DaemonConfig) *Daemon {
	t.Helper()
	bin := Confd(t)
	var err error
	for range startAttempts {
		var d *Daemon
		if d, err = Launch(bin, config()); err == nil {
			t.Cleanup(func() {
				d.Stop(d.cfg.StopGrace)
				if t.Failed() {
					t.Logf("confd log:\n%s", d.Log())
				}
			})
			return d
		}
	}
	t.Fatalf("%v", err)
	return nil
}

// client is the HTTP client of the ready check and Get: it trusts a self-signed certificate.
func (d *Daemon) client() *http.Client {
	if !d.cfg.TLS {
		return http.DefaultClient
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
}

// URL returns the daemon's http:// (or https://) URL of path.
func (d *Daemon) URL(path string) string {
	if d.cfg.TLS {
		return "https://" + d.cfg.HTTP + path
	}
	return "http://" + d.cfg.HTTP + path
}

// Get fetches path, trusting the daemon's self-signed certificate.
func (d *Daemon) Get(path string) (*http.Response, error) { return d.client().Get(d.URL(path)) }

// API sends a request to the daemon's control API with the bearer token and body as JSON (no
// body when nil; a request other than GET is declared JSON even then, as the API wants of a
// state-changing request), and returns the status and the body of the answer.
func (d *Daemon) API(method, path, token string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, d.URL(path), r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := d.client().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// PID returns the daemon's process id.
func (d *Daemon) PID() int { return d.proc.PID() }

// Log returns what the daemon has written to stdout and stderr so far.
func (d *Daemon) Log() string { return d.log.String() }

// Signal sends sig to the daemon (SIGTERM starts a drain).
func (d *Daemon) Signal(sig os.Signal) error { return d.proc.Signal(sig) }

// Exited is closed when the daemon has exited and been reaped.
func (d *Daemon) Exited() <-chan struct{} { return d.proc.Exited() }

// ExitCode returns the daemon's exit code once Exited is closed (-1 before, or when a signal
// ended it).
func (d *Daemon) ExitCode() int { return d.proc.ExitCode() }

// Alive reports whether the daemon is still running.
func (d *Daemon) Alive() bool { return d.proc.Alive() }

// Stop ends the daemon: SIGTERM, then SIGKILL when it has not exited after grace (at once when
// grace is zero); it returns when the process has been reaped.
func (d *Daemon) Stop(grace time.Duration) { d.proc.Stop(grace) }

// Kill sends SIGKILL and returns at once: a node that crashes.
func (d *Daemon) Kill() error { return d.proc.Signal(os.Kill) }
