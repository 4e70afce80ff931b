package cputime

/*
#include <time.h>

// confd_thread_cpu_ns returns the CPU time the calling thread has used, in nanoseconds.
static long long confd_thread_cpu_ns(void) {
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) {
		return -1;
	}
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
*/
import "C"

import "time"

// Thread returns the CPU time used so far by the OS thread that runs the caller
// (clock_gettime with CLOCK_THREAD_CPUTIME_ID), or -1 when the clock is unavailable. It is a
// cost measure that, unlike wall time, does not grow while the thread waits for a core on a
// shared, oversubscribed machine; the caller must hold its thread with runtime.LockOSThread.
func Thread() time.Duration { return time.Duration(C.confd_thread_cpu_ns()) }
