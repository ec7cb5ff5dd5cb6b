//go:build !cuda

package kernels

import (
	"errors"
	"strings"
	"testing"
)

func TestNewWithoutCUDASaysHowToRebuild(t *testing.T) {
	b, err := New(Options{})
	if b != nil || !errors.Is(err, ErrNoCUDA) || !strings.Contains(err.Error(), "-tags cuda") {
		t.Fatalf("New = %v, %v", b, err)
	}
	if Available() {
		t.Fatal("Available in a build without CUDA")
	}
}
