package kernels

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// Options configure the CUDA backend.
type Options struct {
	// Device is the CUDA device ordinal.
	Device int
	// Kernels picks implementations: "" or "auto" uses the fast kernel of
	// every op that has one (after the start-up self-check), "simple" uses
	// the simple kernels everywhere, and a list such as
	// "linear=simple,attention=fast" sets single ops (the rest stay auto).
	// When empty, the GOSDXL_KERNELS environment variable is used.
	Kernels string
	// SkipSelfCheck trusts fast kernels without comparing them to the simple
	// ones at start-up (benchmarks that test both anyway).
	SkipSelfCheck bool
	// SyncEveryLaunch synchronises after each kernel so that a fault is
	// reported against the kernel that caused it (slow; for debugging).
	// GOSDXL_CUDA_SYNC=1 sets it too.
	SyncEveryLaunch bool
	// Logf receives start-up notes (device, kernel choices, fallbacks);
	// nil discards them.
	Logf func(format string, args ...any)
}

// Choice is the implementation picked for one op.
type Choice string

const (
	Auto   Choice = "auto"   // fast when present and self-checked, else simple
	Fast   Choice = "fast"   // the tensor-core kernel (still falls back if absent)
	Simple Choice = "simple" // the plain reference kernel
)

// fastOps are the ops that can have a fast implementation.
var fastOps = []string{"linear", "conv2d", "attention"}

// parseKernelChoices reads the Kernels option (or GOSDXL_KERNELS) into a
// choice per op. Unknown ops or choices are errors naming the setting.
func parseKernelChoices(spec string) (map[string]Choice, error) {
	source := "Options.Kernels"
	if spec == "" {
		spec, source = os.Getenv("GOSDXL_KERNELS"), "GOSDXL_KERNELS"
	}
	choices := map[string]Choice{}
	for _, op := range fastOps {
		choices[op] = Auto
	}
	spec = strings.TrimSpace(spec)
	switch spec {
	case "", "auto":
		return choices, nil
	case "simple", "fast":
		for op := range choices {
			choices[op] = Choice(spec)
		}
		return choices, nil
	}
	for _, item := range strings.Split(spec, ",") {
		op, c, ok := strings.Cut(strings.TrimSpace(item), "=")
		if _, known := choices[op]; !ok || !known {
			return nil, fmt.Errorf("%s: %q is not op=choice with op one of %s", source, item, strings.Join(fastOps, ", "))
		}
		switch Choice(c) {
		case Auto, Fast, Simple:
			choices[op] = Choice(c)
		default:
			return nil, fmt.Errorf("%s: choice %q for %s is not auto, fast or simple", source, c, op)
		}
	}
	return choices, nil
}

// describeChoices formats choices for the start-up log, in a stable order.
func describeChoices(c map[string]Choice) string {
	ops := make([]string, 0, len(c))
	for op := range c {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	parts := make([]string, len(ops))
	for i, op := range ops {
		parts[i] = op + "=" + string(c[op])
	}
	return strings.Join(parts, " ")
}
