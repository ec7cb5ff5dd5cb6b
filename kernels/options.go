package kernels

import (
	"fmt"
	"os"
	"strings"
)

// Options configure the CUDA backend.
type Options struct {
	// Device is the CUDA device ordinal.
	Device int
	// Kernels picks implementations: "" or "auto" uses the fast kernel of
	// every op that has one (once it passes its self-check), "simple" uses
	// the simple kernels everywhere, and a list such as
	// "linear=simple,attention=fast" sets single ops (the rest stay auto).
	// When empty, the GOSDXL_KERNELS environment variable is used.
	Kernels string
	// SkipSelfCheck trusts fast kernels without comparing them to the simple
	// ones on first use (benchmarks that test both anyway).
	SkipSelfCheck bool
	// SyncEveryLaunch synchronises after each kernel so that a fault is
	// reported against the kernel that caused it (slow; for debugging).
	// GOSDXL_CUDA_SYNC=1 sets it too.
	SyncEveryLaunch bool
	// NoGraphs refuses Capture, so that callers which replay a captured
	// step (the pipeline's UNet calls) issue every launch instead: for
	// comparing the two, or a driver whose graphs misbehave.
	// GOSDXL_CUDA_GRAPHS=0 sets it too.
	NoGraphs bool
	// Logf receives notes: the device and kernel choices at start-up, each
	// family's self-check result and fallback on its first use; nil
	// discards them.
	Logf func(format string, args ...any)
}

// opFamily is an op that has a fast (tensor-core) kernel beside its simple
// one. Each family lives in its own file (linear.go, conv.go, attention.go)
// with its Backend methods, both launchers and its self-check cases; its
// String is the name Options.Kernels and the logs use.
type opFamily int

const (
	opLinear opFamily = iota
	opConv2D
	opAttention
	numOpFamilies // not a family: the count
)

func (f opFamily) String() string {
	switch f {
	case opLinear:
		return "linear"
	case opConv2D:
		return "conv2d"
	case opAttention:
		return "attention"
	}
	return fmt.Sprintf("opFamily(%d)", int(f))
}

// kernelChoice is what Options.Kernels asks of one family.
type kernelChoice int8

const (
	choiceAuto   kernelChoice = iota // fast once it agrees with simple in the self-check, else simple
	choiceFast                       // fast even if the self-check disagrees (for debugging it)
	choiceSimple                     // the plain reference kernel only
)

func (c kernelChoice) String() string {
	switch c {
	case choiceAuto:
		return "auto"
	case choiceFast:
		return "fast"
	case choiceSimple:
		return "simple"
	}
	return fmt.Sprintf("kernelChoice(%d)", int(c))
}

// parseChoice reads one choice as Options.Kernels spells it.
func parseChoice(s string) (kernelChoice, bool) {
	for _, c := range []kernelChoice{choiceAuto, choiceFast, choiceSimple} {
		if s == c.String() {
			return c, true
		}
	}
	return 0, false
}

// kernelChoices holds a choice per family, indexed by opFamily.
type kernelChoices [numOpFamilies]kernelChoice

// String formats the choices for the start-up log, in family order.
func (c kernelChoices) String() string {
	parts := make([]string, len(c))
	for f, choice := range c {
		parts[f] = opFamily(f).String() + "=" + choice.String()
	}
	return strings.Join(parts, " ")
}

// familyNamed finds a family by its name in Options.Kernels.
func familyNamed(name string) (opFamily, bool) {
	for f := range numOpFamilies {
		if f.String() == name {
			return f, true
		}
	}
	return 0, false
}

// parseKernelChoices reads the Kernels option (or GOSDXL_KERNELS) into a
// choice per family. Unknown ops or choices are errors naming the setting.
func parseKernelChoices(spec string) (kernelChoices, error) {
	source := "Options.Kernels"
	if spec == "" {
		spec, source = os.Getenv("GOSDXL_KERNELS"), "GOSDXL_KERNELS"
	}
	var choices kernelChoices // every family auto
	spec = strings.TrimSpace(spec)
	switch spec {
	case "", "auto":
		return choices, nil
	case "simple", "fast":
		c, _ := parseChoice(spec)
		for f := range choices {
			choices[f] = c
		}
		return choices, nil
	}
	for _, item := range strings.Split(spec, ",") {
		op, c, ok := strings.Cut(strings.TrimSpace(item), "=")
		f, known := familyNamed(op)
		if !ok || !known {
			return choices, fmt.Errorf("%s: %q is not op=choice with op one of %s", source, item, familyNames())
		}
		choice, ok := parseChoice(c)
		if !ok {
			return choices, fmt.Errorf("%s: choice %q for %s is not auto, fast or simple", source, c, op)
		}
		choices[f] = choice
	}
	return choices, nil
}

// familyNames lists the families for error messages: "linear, conv2d, attention".
func familyNames() string {
	names := make([]string, numOpFamilies)
	for f := range numOpFamilies {
		names[f] = f.String()
	}
	return strings.Join(names, ", ")
}
