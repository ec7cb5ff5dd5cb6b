//go:build unix

package cpu

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used (all threads). The
// benchmarks report GFLOP per CPU-second next to wall-clock GFLOP/s: on a
// shared machine the wall clock measures the neighbours' load as much as the
// code, while CPU time measures the code.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
