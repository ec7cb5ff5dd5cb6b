package main

import (
	"errors"
	"flag"
	"github.com/gosdxl/gosdxl/internal/infotext"
	"io"
	"strings"
	"testing"
)

// checkOptionsError requires what every refusal of the command line must
// be: a usage error (exit status 2) on one line.
func checkOptionsError(t *testing.T, err error) {
	t.Helper()
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return
	}
	var ue usageError
	if !errors.As(err, &ue) {
		t.Fatalf("error %q (%T) is not a usage error", err, err)
	}
	if strings.Contains(strings.TrimRight(err.Error(), "\n"), "\n") {
		t.Fatalf("error spans several lines: %q", err)
	}
}

// FuzzParseOptions feeds arbitrary argument lists (NUL-separated) to the
// flag parsing and validation: no panic, and every refusal a one-line
// usage error. make fuzz runs it for a minute.
func FuzzParseOptions(f *testing.F) {
	for _, s := range []string{
		"-p\x00x", "-p\x00x\x00--width\x009223372036854775800\x00--height\x008",
		"-p\x00x\x00--batch\x009223372036854775807", "--seed\x00-1\x00-p\x00a", "-steps\x001001\x00-p\x00x",
		"--stepz\x003", "-p\x00[a:b:0.5] <lora:x:1>\x00--compat\x00diffusers", "--width=-8\x00-p\x00x",
		"-p\x00x\x00--cfg\x00NaN", "-p\x00x\x00--strength\x000.5", "-h", "-p\x00\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		stdout = io.Discard
		t.Chdir(t.TempDir())
		args := strings.Split(s, "\x00")
		for _, a := range args {
			// Keep to flags and values: files named by the input are
			// outside this target (the checks of --from are fuzzed below).
			if strings.Contains(a, "/") || strings.HasPrefix(a, "--from") || strings.HasPrefix(a, "-from") ||
				strings.Contains(a, "init-image") {
				return
			}
		}
		_, err := parseOptions(args, io.Discard)
		checkOptionsError(t, err)
	})
}

// FuzzFromParameters feeds arbitrary A1111 parameter texts through the
// parsing and the --from application and validation: no panic, and every
// refusal a one-line usage error.
func FuzzFromParameters(f *testing.F) {
	for _, s := range []string{
		"1girl\nNegative prompt: bad\nSteps: 28, Sampler: Euler a, Schedule type: Automatic, CFG scale: 5, Seed: 1, Size: 832x1216, Model hash: 0123456789, RNG: CPU",
		"x\nSteps: 2, Sampler: Euler, CFG scale: 5, Seed: 1, Size: 9223372036854775800x8",
		"x\nSteps: -1, Size: -8x-8, Seed: 18446744073709551615, Denoising strength: 2",
		"x\nSteps: 20, Sampler: DPM++ 2M Karras, Clip skip: 2, Lora hashes: \"a: 1\", Batch size: 1000000000",
		"x\nSampler: nope, Schedule type: what, CFG scale: NaN",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := infotext.Parse(s)
		if err != nil {
			return
		}
		o := &options{set: map[string]bool{}, spelled: map[string]string{}, fromField: map[string]string{}, from: "f.png"}
		fs := newFlagSet(o, io.Discard)
		if err := fs.Parse(nil); err != nil {
			t.Fatal(err)
		}
		err = applyParameters(o, &p)
		if err == nil {
			err = o.reportFrom(io.Discard, fromIssues(o.fromParams))
		}
		if err == nil {
			err = o.validate(io.Discard)
		}
		checkOptionsError(t, err)
	})
}
