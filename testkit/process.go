package testkit

import (
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Process is a program a test runs beside it (confd, baresip, Kamailio, HAProxy): it dies with
// the test binary, which a -timeout may kill before any cleanup runs, and a goroutine of its
// own reaps it, so that Exited tells when it has ended.
//
// A program whose output is read through cmd's StdoutPipe cannot be a Process: os/exec wants
// Wait only after the last read from the pipe.
type Process struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartProcess starts cmd, set up by the caller (arguments, environment, output), with
// Pdeathsig SIGKILL added to its SysProcAttr: the kernel kills it when the test binary's thread
// that started it exits (prctl(2) PR_SET_PDEATHSIG).
func StartProcess(cmd *exec.Cmd) (*Process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p, nil
}

// PID returns the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited is closed when the process has exited and been reaped.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Alive reports whether the process is still running.
func (p *Process) Alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// WaitExit waits up to d for the process to exit and reports whether it has.
func (p *Process) WaitExit(d time.Duration) bool {
	select {
	case <-p.exited:
		return true
	case <-time.After(d):
		return false
	}
}

// ExitCode returns the process's exit code once Exited is closed (-1 before, or when a signal
// ended it).
func (p *Process) ExitCode() int {
	if p.Alive() {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Kill sends SIGKILL, to the whole process group when the process leads one (Setpgid: a
// program that forks its workers, as Kamailio does), and returns once the process has been
// reaped.
func (p *Process) Kill() {
	if p.cmd.SysProcAttr.Setpgid {
		_ = syscall.Kill(-p.PID(), syscall.SIGKILL)
	} else {
		_ = p.cmd.Process.Kill()
	}
	<-p.exited
}

// Stop ends the process: SIGTERM, then Kill when it has not exited after grace (at once when
// grace is zero); it returns once the process has been reaped.
func (p *Process) Stop(grace time.Duration) {
	if grace > 0 {
		_ = p.Signal(syscall.SIGTERM)
		if p.WaitExit(grace) {
			return
		}
	}
	p.Kill()
}
