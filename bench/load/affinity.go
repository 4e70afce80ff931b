package load

import (
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

// setAllThreads applies set to every thread listed in /proc/self/task.
func setAllThreads(set *unix.CPUSet) error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("load: listing threads: %w", err)
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		// A thread may exit between the listing and the call (ESRCH): nothing to pin then.
		if err := unix.SchedSetaffinity(tid, set); err != nil && err != unix.ESRCH {
			return fmt.Errorf("load: sched_setaffinity(%d): %w", tid, err)
		}
	}
	return nil
}
