//go:build !cuda

package kernels

import (
	"errors"

	"github.com/gosdxl/gosdxl/tensor"
)

// ErrNoCUDA is returned by New in builds without the cuda tag.
// A cuda build needs the NVIDIA driver and a GPU to start (see doc.go).
var ErrNoCUDA = errors.New("gosdxl was built without CUDA support; rebuild with `go build -tags cuda ./cmd/gen` for a machine with an NVIDIA GPU and driver")

// Backend is the CUDA backend; in this build it cannot be created.
type Backend struct{ tensor.Backend }

// New always fails: this binary has no CUDA support.
func New(opts Options) (*Backend, error) { return nil, ErrNoCUDA }

// Available reports whether CUDA can be used: never in this build.
func Available() bool { return false }

// Close does nothing; it exists so callers compile in both builds.
func (b *Backend) Close() error { return nil }

// Stats is empty in this build.
func (b *Backend) Stats() PoolStats { return PoolStats{} }

// Trim releases nothing in this build.
func (b *Backend) Trim() (int64, error) { return 0, nil }
