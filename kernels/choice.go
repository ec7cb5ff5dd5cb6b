//go:build cuda

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gosdxl/gosdxl/tensor"
)

// Which kernel each op family runs. Options.Kernels asks (options.go); a
// fast kernel that would run is first compared with the simple one on small
// random cases, once, the first time its family is used, so that New stays
// cheap and a backend never checks what it never runs. In auto mode a fast
// kernel that disagrees is dropped for the simple one, with a log line; in
// fast mode it is kept and the disagreement logged. A family's methods ask
// b.useFast(family), then call their fast launcher directly; a fast launcher
// may still decline a case (dtype, alignment, size) and the simple kernel
// runs instead.

// familyKernel is what one op family runs.
type familyKernel struct {
	choice  kernelChoice // as Options.Kernels asked
	settled bool         // fast is final: checked, or no check needed
	fast    bool         // runs the fast kernel (simple until settled)
}

// initFamilies records the choices. Simple ones, and fast ones trusted
// without a check (Options.SkipSelfCheck), are settled at once; the others
// on first use.
func (b *Backend) initFamilies(choices kernelChoices) {
	for f := range numOpFamilies {
		k := &b.families[f]
		k.choice = choices[f]
		switch {
		case k.choice == choiceSimple:
			k.settled = true
			b.logf("cuda: %s: simple kernel (chosen)", f)
		case b.opts.SkipSelfCheck:
			k.settled, k.fast = true, true
			b.logf("cuda: %s: fast kernel (self-check skipped)", f)
		default:
			b.logf("cuda: %s: fast kernel, self-checked on first use", f)
		}
	}
}

// useFast reports whether family f runs its fast kernel, running its
// self-check first if it has not been settled yet.
func (b *Backend) useFast(f opFamily) bool {
	k := &b.families[f]
	if !k.settled {
		b.settle(f, b.selfCheck)
	}
	return k.fast
}

// settleAll settles every family now: Capture calls it, since a self-check
// synchronises and cannot run inside a stream capture.
func (b *Backend) settleAll() {
	for f := range numOpFamilies {
		b.useFast(f)
	}
}

// settle runs check for family f (b.selfCheck; tests plant others) and
// decides. It first waits for the work already queued, so that an error the
// check reports is the check's own. On a failed backend (launches are
// no-ops until Sync reports the failure) or a device error in the check, f
// stays unsettled and runs simple kernels; the check runs again on a later
// use. The check's launches, copies and waits are not the caller's work, so
// Counters leaves them out; its driver allocations stay counted, as the
// pool keeps those blocks.
func (b *Backend) settle(f opFamily, check func(opFamily) (problem string, err error)) {
	defer b.uncounted()()
	if !b.drained() {
		return
	}
	problem, err := check(f)
	if err != nil {
		b.w.do(func() {
			if b.err == nil {
				b.err = err
			}
		})
		return
	}
	k := &b.families[f]
	k.settled = true
	switch {
	case problem == "":
		k.fast = true
		b.logf("cuda: %s: fast kernel (agrees with simple)", f)
	case k.choice == choiceFast:
		k.fast = true
		b.logf("cuda: %s: fast kernel kept as asked although it DISAGREES with simple: %s", f, problem)
	default:
		b.logf("cuda: %s: simple kernel, the fast one disagrees: %s", f, problem)
	}
}

// drained waits for the queued work and reports whether the backend is
// free of errors and not capturing.
func (b *Backend) drained() bool {
	ok := false
	b.w.do(func() {
		if b.err == nil && b.capture == nil {
			b.err = b.syncStream()
			ok = b.err == nil
		}
	})
	return ok
}

// uncounted snapshots the counters and returns a func that restores them,
// keeping the driver allocations made in between.
func (b *Backend) uncounted() (restore func()) {
	var saved tensor.Counters
	var waits int
	b.w.do(func() { saved, waits = b.counts, b.uploads.waits })
	return func() {
		b.w.do(func() {
			saved.DriverAllocs, saved.AllocBytes = b.counts.DriverAllocs, b.counts.AllocBytes
			b.counts, b.uploads.waits = saved, waits
		})
	}
}

// checkCase is one self-check comparison: the output shape and the two
// implementations, each writing dst. fast returns false when it declines.
type checkCase struct {
	name   string
	dst    []int
	simple func(dst *tensor.Tensor)
	fast   func(dst *tensor.Tensor) bool
}

// checkCases are family f's comparisons, each family's defined in its file.
func (b *Backend) checkCases(f opFamily, in *checkInputs) []checkCase {
	switch f {
	case opLinear:
		return b.linearCheckCases(in)
	case opConv2D:
		return b.convCheckCases(in)
	case opAttention:
		return b.attentionCheckCases(in)
	}
	panic(fmt.Sprintf("kernels: no self-check cases for %v", f))
}

// checkInputs makes the self-check's random F16 inputs (the same for every
// run) and frees them afterwards.
type checkInputs struct {
	b      *Backend
	rng    *rand.Rand
	inputs []*tensor.Tensor
}

func newCheckInputs(b *Backend) *checkInputs {
	return &checkInputs{b: b, rng: rand.New(rand.NewPCG(1, 2))}
}

// random uploads standard-normal F16 values of the given shape.
func (in *checkInputs) random(shape ...int) *tensor.Tensor {
	data := make([]float32, tensor.Shape(shape).NumElements())
	for i := range data {
		data[i] = float32(in.rng.NormFloat64())
	}
	t := in.b.FromFloat32(tensor.F16, shape, data)
	in.inputs = append(in.inputs, t)
	return t
}

// free returns the inputs to the pool for the model's own tensors.
func (in *checkInputs) free() {
	for _, t := range in.inputs {
		in.b.Free(t)
	}
}

// selfCheck runs family f's fast kernel on small random F16 cases with
// awkward sizes and compares it with the simple kernel (see compare).
func (b *Backend) selfCheck(f opFamily) (problem string, err error) {
	in := newCheckInputs(b)
	defer in.free()
	return b.compare(f, b.checkCases(f, in))
}

// compare runs each case both ways. It returns "" when they agree within
// fp16 tolerance, else a description of the first disagreement; err is a
// device failure.
func (b *Backend) compare(f opFamily, cases []checkCase) (problem string, err error) {
	for _, c := range cases {
		want, got := b.Alloc(tensor.F16, c.dst...), b.Alloc(tensor.F16, c.dst...)
		b.fill(got, 0xff) // NaN: a fast kernel that skips outputs cannot pass
		c.simple(want)
		handled := c.fast(got)
		w, g := b.ToFloat32(want), b.ToFloat32(got)
		b.Free(want)
		b.Free(got)
		if err := b.Sync(); err != nil {
			return "", fmt.Errorf("cuda: self-check of %s (%s): %w", f, c.name, err)
		}
		if !handled {
			b.logf("cuda: %s self-check: fast kernel declined %s", f, c.name)
			continue
		}
		if i, ok := withinTolerance(g, w, 2e-3, 1e-2); !ok {
			return fmt.Sprintf("%s: element %d is %g, simple gives %g", c.name, i, g[i], w[i]), nil
		}
	}
	return "", nil
}

// withinTolerance checks |got−want| ≤ atol + rtol·|want| everywhere (NaN
// fails) and returns the first failing index.
func withinTolerance(got, want []float32, atol, rtol float64) (int, bool) {
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if !(d <= atol+rtol*math.Abs(float64(want[i]))) {
			return i, false
		}
	}
	return 0, true
}
