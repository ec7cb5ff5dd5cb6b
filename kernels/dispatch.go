//go:build cuda

package kernels

import "github.com/gosdxl/gosdxl/tensor"

// Fast implementations of the heavy ops, set by the tensor-core launcher files
// (gemm*.go, conv*.go, attention*.go) in their init functions. Each returns
// false when it does not handle a case (dtype, alignment, size); the simple
// kernel then runs. Shapes are already validated when they are called.
var (
	fastLinear    func(b *Backend, dst, x, w, bias *tensor.Tensor) bool
	fastConv2D    func(b *Backend, dst, x, w, bias *tensor.Tensor, stride, pad int) bool
	fastAttention func(b *Backend, dst, q, k, v *tensor.Tensor, heads int, causal bool) bool
)

// registered reports whether op has a fast implementation in this build.
func registered(op string) bool {
	switch op {
	case "linear":
		return fastLinear != nil
	case "conv2d":
		return fastConv2D != nil
	case "attention":
		return fastAttention != nil
	}
	return false
}

// useFast reports whether op runs its fast kernel (decided by chooseKernels).
func (b *Backend) useFast(op string) bool { return b.active[op] }

// chooseKernels settles the kernel table: simple where asked or where no
// fast kernel exists; otherwise fast, after the self-check (selfcheck.go)
// unless Options.SkipSelfCheck. In auto mode a fast kernel that disagrees
// with the simple one is dropped, with a log line; in fast mode it is kept
// and the disagreement logged.
func (b *Backend) chooseKernels() error {
	b.active = map[string]bool{}
	for _, op := range fastOps {
		choice := b.choices[op]
		switch {
		case choice == Simple:
			b.logf("cuda: %s: simple kernel (chosen)", op)
			continue
		case !registered(op):
			b.logf("cuda: %s: simple kernel (no fast kernel in this build)", op)
			continue
		case b.opts.SkipSelfCheck:
			b.active[op] = true
			b.logf("cuda: %s: fast kernel (self-check skipped)", op)
			continue
		}
		problem, err := b.selfCheck(op)
		if err != nil {
			return err
		}
		switch {
		case problem == "":
			b.active[op] = true
			b.logf("cuda: %s: fast kernel (agrees with simple)", op)
		case choice == Fast:
			b.active[op] = true
			b.logf("cuda: %s: fast kernel kept as asked although it DISAGREES with simple: %s", op, problem)
		default:
			b.logf("cuda: %s: simple kernel, the fast one disagrees: %s", op, problem)
		}
	}
	return nil
}

// KernelChoice reports which implementation op runs: "fast" or "simple".
func (b *Backend) KernelChoice(op string) Choice {
	if b.useFast(op) {
		return Fast
	}
	return Simple
}
