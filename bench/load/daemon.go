package load

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"confd/testkit"
	"confd/testkit/cputime"
)

// Daemon is a confd process started for a run, pinned to one CPU with taskset(1).
type Daemon struct {
	*testkit.Daemon
	// SIP and HTTP are the daemon's listen ports on 127.0.0.1.
	SIP, HTTP int
	// Token is the API token, handed to confd by the environment (CONFD_API_TOKEN).
	Token string
	conf  string // the -config file of loadLimits
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

// StartDaemon starts bin (testkit.ConfdBinary) on free loopback ports as opts say, and waits
// until /readyz answers 200.
func StartDaemon(bin string, opts DaemonOptions) (*Daemon, error) {
	sip, err := testkit.FreePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := testkit.FreePort()
	if err != nil {
		return nil, err
	}
	conf, err := os.CreateTemp("", "confd-load-*.toml")
	if err != nil {
		return nil, err
	}
	conf.Close()
	d := &Daemon{SIP: sip, HTTP: httpPort, conf: conf.Name(), Token: "load-" + strconv.Itoa(os.Getpid())}
	// Every leg of the generator comes from loopback, one source to confd: its per-source
	// limits on WebRTC sessions and SIP calls are lifted for the run.
	if err := os.WriteFile(d.conf, []byte(loadLimits), 0o600); err != nil {
		return nil, err
	}
	var wrap []string
	if opts.Realtime {
		if _, err := exec.LookPath("chrt"); err != nil {
			return nil, fmt.Errorf("load: real-time confd needs chrt (util-linux): %w", err)
		}
		wrap = append(wrap, "chrt", "-f", "10")
	}
	if opts.CPU >= 0 {
		if _, err := exec.LookPath("taskset"); err != nil {
			return nil, fmt.Errorf("load: pinning confd needs taskset (util-linux): %w", err)
		}
		wrap = append(wrap, "taskset", "-c", strconv.Itoa(opts.CPU))
	}
	var onStart func(pid int) error
	if opts.Nice != 0 {
		onStart = func(pid int) error {
			if err := unix.Setpriority(unix.PRIO_PROCESS, pid, opts.Nice); err != nil {
				return fmt.Errorf("load: setpriority %d on confd: %w", opts.Nice, err)
			}
			return nil
		}
	}
	d.Daemon, err = testkit.Launch(bin, testkit.DaemonConfig{
		Args: []string{"-config", d.conf, "-sip", fmt.Sprintf("127.0.0.1:%d", sip), "-http", fmt.Sprintf("127.0.0.1:%d", httpPort),
			"-rtp", opts.RTP, "-log-level", "warn"},
		HTTP:         fmt.Sprintf("127.0.0.1:%d", httpPort),
		Env:          []string{"CONFD_API_TOKEN=" + d.Token},
		Wrap:         wrap,
		OnStart:      onStart,
		ReadyTimeout: 15 * time.Second,
	})
	if err != nil {
		os.Remove(d.conf)
		return nil, fmt.Errorf("load: %w", err)
	}
	return d, nil
}

// CPUTime returns the CPU time the daemon has used so far, user and system, all threads.
func (d *Daemon) CPUTime() (time.Duration, error) { return cputime.Process(d.PID()) }

// Stop ends the daemon (SIGTERM, then SIGKILL after 5 s), waits for it and removes its config.
func (d *Daemon) Stop() {
	d.Daemon.Stop(5 * time.Second)
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
