package load

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// PinProcess sets the CPU affinity of every thread of this process to cpu, and returns a
// function that gives every thread its former mask back. Threads the Go runtime starts later
// are cloned from existing ones and inherit the mask, so the whole process stays on cpu.
func PinProcess(cpu int) (restore func(), err error) {
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return nil, fmt.Errorf("load: sched_getaffinity: %w", err)
	}
	var set unix.CPUSet
	set.Set(cpu)
	if err := setAllThreads(&set); err != nil {
		return nil, err
	}
	return func() { _ = setAllThreads(&old) }, nil
}

// RealtimeProcess puts every thread of this process under SCHED_FIFO priority prio (later
// threads inherit it) and returns a function that puts them back under SCHED_NORMAL. The
// kernel's RT throttling (sched_rt_runtime_us) still leaves other processes 5% of the CPU.
func RealtimeProcess(prio uint32) (restore func(), err error) {
	fifo := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: prio}
	if err := forAllThreads(func(tid int) error { return unix.SchedSetAttr(tid, &fifo, 0) }); err != nil {
		return nil, fmt.Errorf("load: SCHED_FIFO: %w", err)
	}
	normal := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_NORMAL}
	return func() { _ = forAllThreads(func(tid int) error { return unix.SchedSetAttr(tid, &normal, 0) }) }, nil
}

// setAllThreads applies set to every thread listed in /proc/self/task.
func setAllThreads(set *unix.CPUSet) error {
	return forAllThreads(func(tid int) error {
		if err := unix.SchedSetaffinity(tid, set); err != nil {
			return fmt.Errorf("load: sched_setaffinity(%d): %w", tid, err)
		}
		return nil
	})
}

// forAllThreads calls f with every thread id in /proc/self/task.
func forAllThreads(f func(tid int) error) error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("load: listing threads: %w", err)
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		// A thread may exit between the listing and the call (ESRCH): nothing to set then.
		if err := f(tid); err != nil && !errors.Is(err, unix.ESRCH) {
			return err
		}
	}
	return nil
}
