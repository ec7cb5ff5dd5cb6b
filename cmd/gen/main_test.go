package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCapture runs the command in-process and returns its exit status,
// stdout and stderr.
func runCapture(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	stdout, stderr = &out, &errOut
	t.Cleanup(func() { stdout, stderr = os.Stdout, os.Stderr })
	code := run(args)
	return code, out.String(), errOut.String()
}

func TestBadFlagsExitTwoWithOneClearLine(t *testing.T) {
	dir := t.TempDir()
	notImage := filepath.Join(dir, "x.png")
	os.WriteFile(notImage, []byte("not a png"), 0o644)
	goodImage := writeTestPNG(t, filepath.Join(dir, "good.png"), 16, 16)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-p", "x", "--sampler", "nope"}, "valid samplers: ddim, dpmpp_2m, dpmpp_2m_sde, euler, euler_a, heun, lms"},
		{[]string{"-p", "x", "--sampler", "ddim", "--schedule", "karras"}, "ddim does not support the \"karras\" schedule"},
		{[]string{"-p", "x", "--steps", "1001"}, "--steps 1001: must be from 1 to 1000"},
		{[]string{"-p", "x", "-steps", "1001"}, "-steps 1001: must be from 1 to 1000"},
		{[]string{"-p", "x", "--width", "830"}, "--width 830: must be a positive multiple of 8"},
		{[]string{"-p", "x", "--height", "0"}, "--height 0"},
		{[]string{"-p", "x", "--steps", "0"}, "--steps 0: must be from 1 to 1000"},
		{[]string{"-p", "x", "--init-image", goodImage, "--strength", "0"}, "--strength 0: must be in (0, 1]"},
		{[]string{"-p", "x", "--init-image", goodImage, "--strength", "1.5"}, "--strength 1.5"},
		{[]string{"-p", "x", "--strength", "0.5"}, "--strength needs --init-image"},
		{[]string{"-p", "x", "--init-image", filepath.Join(dir, "missing.png")}, "--init-image"},
		{[]string{"-p", "x", "--init-image", notImage}, "not a readable PNG or JPEG"},
		{[]string{"-p", "x", "--schedule", "weird"}, "valid schedules"},
		{[]string{"-p", "x", "--device", "tpu"}, "--device \"tpu\""},
		{[]string{"-p", "x", "--compat", "comfy"}, "--compat"},
		{[]string{"-p", "x", "--rng", "philox"}, "--rng"},
		{[]string{"-p", "x", "--seed", "-3"}, "--seed \"-3\": must be a whole number"},
		{[]string{"-p", "x", "--model", filepath.Join(dir, "none.safetensors")}, "no such file or folder"},
		{[]string{"--bogus"}, "unknown flag --bogus (see gen -h)"},
		{[]string{"-bogus"}, "unknown flag -bogus (see gen -h)"},
		{[]string{}, "no prompt"},
		{[]string{"--from", notImage}, "--from"},
	}
	for _, c := range cases {
		code, _, errOut := runCapture(t, c.args...)
		if code != 2 {
			t.Errorf("%q: exit status %d, want 2 (stderr %q)", c.args, code, errOut)
		}
		if !strings.Contains(errOut, c.want) {
			t.Errorf("%q: stderr %q does not mention %q", c.args, errOut, c.want)
		}
	}
}

func TestUnusualSizeWarns(t *testing.T) {
	_, _, errOut := runCapture(t, "-p", "x", "--width", "512", "--height", "512", "--model", filepath.Join(t.TempDir(), "m"))
	if !strings.Contains(errOut, "512x512 is not one of the SDXL training resolutions") {
		t.Errorf("no warning: %q", errOut)
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		code, out, errOut := runCapture(t, args...)
		if code != 0 || !strings.Contains(out, "--negative TEXT") || errOut != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want the usage on stdout", args, code, out, errOut)
		}
	}
}
