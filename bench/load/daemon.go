package load

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"confd/internal/testkit/cputime"
)

// BuildConfd builds cmd/confd into dir and returns the binary's path.
func BuildConfd(dir string) (string, error) {
	bin := filepath.Join(dir, "confd")
	out, err := exec.Command("go", "build", "-tags", "nolibopusfile", "-o", bin, "confd/cmd/confd").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("load: go build confd: %v\n%s", err, out)
	}
	return bin, nil
}

// Daemon is a confd process started for a run, pinned to one CPU with taskset(1).
type Daemon struct {
	// SIP and HTTP are the daemon's listen ports on 127.0.0.1.
	SIP, HTTP int
	// Token is the API token, handed to confd by the environment (CONFD_API_TOKEN).
	Token  string
	cmd    *exec.Cmd
	log    *os.File // the daemon's stdout and stderr
	conf   string   // the -config file of loadLimits
	exited chan struct{}
}

// DaemonOptions say how StartDaemon runs confd.
type DaemonOptions struct {
	// CPU is the CPU confd is pinned to (taskset(1)); a negative one leaves it unpinned.
	CPU int
	// Nice is confd's scheduling niceness (setpriority(2); a negative one needs CAP_SYS_NICE).
	Nice int
	// Realtime runs confd under SCHED_FIFO priority 10 (chrt(1)), so that no ordinary process
	// on its CPU delays it: a core of its own on a shared machine.
	Realtime bool
	// RTP is confd's -rtp port range, "LOW-HIGH".
	RTP string
}

// StartDaemon starts bin on free loopback ports as opts say, and waits until /readyz answers
// 200.
func StartDaemon(bin string, opts DaemonOptions) (*Daemon, error) {
	sip, err := freePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.CreateTemp("", "confd-load-*.log")
	if err != nil {
		return nil, err
	}
	d := &Daemon{SIP: sip, HTTP: httpPort, log: logFile, exited: make(chan struct{})}
	// Every leg of the generator comes from loopback, one source to confd: its per-source
	// limits on WebRTC sessions and SIP calls are lifted for the run. The file goes with the log.
	d.conf = logFile.Name() + ".toml"
	if err := os.WriteFile(d.conf, []byte(loadLimits), 0o600); err != nil {
		return nil, err
	}
	args := []string{bin, "-config", d.conf, "-sip", fmt.Sprintf("127.0.0.1:%d", sip), "-http", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"-rtp", opts.RTP, "-log-level", "warn"}
	if opts.CPU >= 0 {
		if _, err := exec.LookPath("taskset"); err != nil {
			return nil, fmt.Errorf("load: pinning confd needs taskset (util-linux): %w", err)
		}
		args = append([]string{"taskset", "-c", strconv.Itoa(opts.CPU)}, args...)
	}
	if opts.Realtime {
		if _, err := exec.LookPath("chrt"); err != nil {
			return nil, fmt.Errorf("load: real-time confd needs chrt (util-linux): %w", err)
		}
		args = append([]string{"chrt", "-f", "10"}, args...)
	}
	d.cmd = exec.Command(args[0], args[1:]...)
	d.Token = "load-" + strconv.Itoa(os.Getpid())
	d.cmd.Env = append(os.Environ(), "CONFD_API_TOKEN="+d.Token)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("load: starting confd with taskset: %w", err)
	}
	go func() { _ = d.cmd.Wait(); close(d.exited) }()
	if opts.Nice != 0 {
		if err := unix.Setpriority(unix.PRIO_PROCESS, d.PID(), opts.Nice); err != nil {
			d.Stop()
			return nil, fmt.Errorf("load: setpriority %d on confd: %w", opts.Nice, err)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(d.URL("/readyz"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return d, nil
			}
		}
		select {
		case <-d.exited:
			return nil, fmt.Errorf("load: confd exited at start:\n%s", d.Log())
		default:
		}
		if time.Now().After(deadline) {
			log := d.Log()
			d.Stop()
			return nil, fmt.Errorf("load: confd not ready: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// URL returns the daemon's HTTP URL of path.
func (d *Daemon) URL(path string) string { return fmt.Sprintf("http://127.0.0.1:%d%s", d.HTTP, path) }

// PID returns the daemon's process id.
func (d *Daemon) PID() int { return d.cmd.Process.Pid }

// Log returns what the daemon has logged so far.
func (d *Daemon) Log() string {
	b, _ := os.ReadFile(d.log.Name())
	return string(b)
}

// Alive reports whether the daemon is still running.
func (d *Daemon) Alive() bool {
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// CPUTime returns the CPU time the daemon has used so far, user and system, all threads
// (utime + stime of /proc/PID/stat, proc(5)).
func (d *Daemon) CPUTime() (time.Duration, error) { return cputime.Process(d.PID()) }

// Stop ends the daemon (SIGTERM, then SIGKILL after 5 s), waits for it and removes its log.
func (d *Daemon) Stop() {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(5 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.exited
	}
	d.log.Close()
	os.Remove(d.log.Name())
	os.Remove(d.conf)
}

// loadLimits is the configuration of a load run: a generator's thousand legs from one address.
// Its SIP callers come from 127.0.0.1, declared a trunk, which the per-source limits of
// [security.sip] exempt, as an operator does for a PBX or SBC.
const loadLimits = `[security]
trunks = ["127.0.0.1"]

[security.webrtc]
sessions_per_source = 100000
session_rate = 100000
max_sessions = 100000
`

// freePort returns a port free for both UDP and TCP on 127.0.0.1, outside the RTP range the
// runs give confd (the kernel's ephemeral range is above it).
func freePort() (int, error) {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("load: no free port")
}

// LoadAverage returns the first three fields of /proc/loadavg.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
