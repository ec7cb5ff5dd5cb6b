package atomicfile

import (
	"fmt"
	"os"
	"time"
)

// StallEnv names the fault-injection point of the interruption tests: when
// the variable equals a point's name, the process says so on stderr and
// stops there until a signal ends it. Points: "commit:<base name>" (the
// file's bytes are written, not yet synced or renamed) and
// "locked:<base name>" (the same, holding the lock Interrupt needs), plus
// those of the command (StallPoint callers).
const StallEnv = "GOSDXL_TEST_STALL"

var stallAt = os.Getenv(StallEnv)

// StallPoint stops the process at the named point when StallEnv selects it.
func StallPoint(name string) { stallPoint(name) }

func stallPoint(name string) {
	if stallAt == "" || stallAt != name {
		return
	}
	fmt.Fprintf(os.Stderr, "stalled at %s\n", name)
	for {
		time.Sleep(time.Hour)
	}
}
