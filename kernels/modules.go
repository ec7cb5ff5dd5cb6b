//go:build cuda

package kernels

import (
	"embed"
	"fmt"
)

// ptxFiles are the committed PTX modules, one per kernels/cuda/<module>.cu,
// built by `make ptx` and stored gzipped (ptx_gzip.go). The driver
// JIT-compiles a module for the actual GPU the first time one of its kernels
// is launched.
//
//go:embed ptx/*.ptx.gz
var ptxFiles embed.FS

// Kernel names one extern "C" function of one module, e.g.
// Kernel{"norm", "layernorm_f16_f16"}.
type Kernel struct{ Module, Name string }

func (k Kernel) String() string { return k.Module + "." + k.Name }

// function is a resolved kernel and the dynamic shared memory it was opened to.
type function struct {
	f         cuFunction
	maxShared int
}

// resolve returns the loaded function, loading its module on first use.
// Runs on the context goroutine.
func (b *Backend) resolve(k Kernel) (*function, error) {
	if fn, ok := b.funcs[k]; ok {
		return fn, nil
	}
	mod, ok := b.modules[k.Module]
	if !ok {
		gz, err := ptxFiles.ReadFile("ptx/" + k.Module + ".ptx.gz")
		if err != nil {
			return nil, fmt.Errorf("kernel %s: no embedded module ptx/%s.ptx.gz (run `make ptx`)", k, k.Module)
		}
		ptx, err := gunzipPTX(k.Module, gz)
		if err != nil {
			return nil, fmt.Errorf("kernel %s: %w", k, err)
		}
		if mod, err = moduleLoad(ptx); err != nil {
			return nil, fmt.Errorf("kernel %s: loading module %s: %w", k, k.Module, err)
		}
		b.modules[k.Module] = mod
	}
	f, err := moduleFunction(mod, k.Name)
	if err != nil {
		return nil, fmt.Errorf("kernel %s: %w", k, err)
	}
	fn := &function{f: f, maxShared: 48 << 10}
	b.funcs[k] = fn
	return fn, nil
}
