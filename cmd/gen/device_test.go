//go:build !cuda

package main

import (
	"strings"
	"testing"
)

// Without the cuda build tag, --device cuda must refuse (not fall back to
// the CPU) and say how to get a CUDA build; auto runs on the CPU.
func TestDeviceCUDAWithoutCUDABuild(t *testing.T) {
	code, _, errOut := runCapture(t, "-p", "x", "--device", "cuda")
	if code != 2 || !strings.Contains(errOut, "--device cuda") || !strings.Contains(errOut, "-tags cuda") {
		t.Errorf("exit %d, stderr %q: want status 2 naming --device cuda and -tags cuda", code, errOut)
	}
	b, release, err := openBackend("auto", true)
	if err != nil || b.Name() != "cpu" {
		t.Fatalf("auto: backend %v, error %v; want the CPU", b, err)
	}
	release()
}
