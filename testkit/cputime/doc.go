// Package cputime measures CPU time, the cost measure of confd's benchmarks and load runs: unlike
// wall time it does not grow while a thread waits for a core on a shared, oversubscribed
// machine. Thread reads the calling OS thread's clock (cgo: clock_gettime), Process another
// process's user and system time from /proc (proc(5)).
package cputime
