package testkit

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestProcessExitsAndStops: a Process is reaped by itself (Exited, its exit code); Stop ends a
// running one with SIGTERM within its grace, after which it is no longer alive.
func TestProcessExitsAndStops(t *testing.T) {
	p, err := StartProcess(exec.Command("sh", "-c", "exit 3"))
	if err != nil {
		t.Fatal(err)
	}
	if !p.WaitExit(5 * time.Second) {
		t.Fatal("sh -c 'exit 3' did not exit")
	}
	if p.Alive() || p.ExitCode() != 3 {
		t.Errorf("after exit 3: alive %v, exit code %d", p.Alive(), p.ExitCode())
	}

	p, err = StartProcess(exec.Command("sleep", "30"))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Alive() || p.ExitCode() != -1 {
		t.Errorf("a running sleep: alive %v, exit code %d, want alive and -1", p.Alive(), p.ExitCode())
	}
	start := time.Now()
	p.Stop(5 * time.Second)
	if p.Alive() || time.Since(start) > 4*time.Second {
		t.Errorf("Stop: alive %v after %v, want ended by SIGTERM at once", p.Alive(), time.Since(start))
	}
}

// TestProcessKillEndsItsGroup: a Process that leads a process group (Setpgid) is killed with
// its children, as Kamailio's forked workers must be.
func TestProcessKillEndsItsGroup(t *testing.T) {
	// The child's pid comes through a file: a pipe would keep Kill waiting for the child,
	// which holds its write end.
	out, err := os.Create(t.TempDir() + "/child")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command("sh", "-c", "sleep 30 & echo $!; wait")
	cmd.Stdout = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p, err := StartProcess(cmd)
	if err != nil {
		t.Fatal(err)
	}
	var child int
	Eventually(t, 5*time.Second, "the child process is still running", func() bool {
		pid, _ := os.ReadFile(out.Name())
		child, err = strconv.Atoi(strings.TrimSpace(string(pid)))
		return err == nil
	})
	p.Kill()
	// The child, reparented, is gone or a zombie its new parent has yet to reap.
	Eventually(t, 5*time.Second, "the child process is still running", func() bool {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(child) + "/stat")
		return err != nil || strings.Contains(string(stat), ") Z ")
	})
}
