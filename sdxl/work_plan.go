package sdxl

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gosdxl/gosdxl/tensor"
)

// Work is the arithmetic and memory traffic of a network call, by kind of
// operation, counted on the plan backend (planBackend) from the model's own
// calls at their real shapes: the cost model of a UNet step and a decode.
// Bytes are each operation's inputs read once and its output written
// once, the least any implementation moves; FLOPs count a multiply-add as
// two.
type Work map[OpKind]OpWork

// OpKind groups operations that run on the same kind of kernel.
type OpKind string

const (
	KindLinear      OpKind = "linear"      // GEMMs (tensor cores)
	KindConv        OpKind = "conv2d"      // implicit-GEMM convolutions (tensor cores)
	KindAttention   OpKind = "attention"   // flash attention (tensor cores)
	KindNorm        OpKind = "norm"        // GroupNorm, LayerNorm (memory bound)
	KindElementwise OpKind = "elementwise" // activations, adds, concat, copies (memory bound)
)

// OpWork is one kind's total.
type OpWork struct {
	Ops   int     // backend calls (the composed paths: fused kernels run fewer)
	FLOPs float64 // arithmetic
	Bytes float64 // least memory traffic
}

func (w Work) add(k OpKind, flops float64, tensors ...*tensor.Tensor) {
	o := w[k]
	o.Ops++
	o.FLOPs += flops
	for _, t := range tensors {
		if t != nil {
			o.Bytes += float64(t.NumElements() * t.DType().Size())
		}
	}
	w[k] = o
}

// Rates are what a device sustains per kind of operation: tera-FLOP/s for
// the tensor-core kinds, TB/s of memory traffic for the others.
type Rates struct {
	Linear, Conv, Attention float64 // TFLOP/s
	Bandwidth               float64 // TB/s
}

// Seconds is the work's expected device time at rates: each kind at its
// rate, one after the other (a lower bound where kernels reach the rates;
// launch gaps and host time come on top).
func (w Work) Seconds(r Rates) map[OpKind]float64 {
	s := map[OpKind]float64{}
	for k, o := range w {
		switch k {
		case KindLinear:
			s[k] = o.FLOPs / (r.Linear * 1e12)
		case KindConv:
			s[k] = o.FLOPs / (r.Conv * 1e12)
		case KindAttention:
			s[k] = o.FLOPs / (r.Attention * 1e12)
		default:
			s[k] = o.Bytes / (r.Bandwidth * 1e12)
		}
	}
	return s
}

// Total sums the kinds.
func (w Work) Total() OpWork {
	var t OpWork
	for _, o := range w {
		t.Ops += o.Ops
		t.FLOPs += o.FLOPs
		t.Bytes += o.Bytes
	}
	return t
}

// Table formats the work and its expected time at each set of rates, one
// line per kind, for logs and docs.
func (w Work) Table(rates map[string]Rates) string {
	kinds := make([]OpKind, 0, len(w))
	for k := range w {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i] < kinds[j] })
	names := make([]string, 0, len(rates))
	for n := range rates {
		names = append(names, n)
	}
	sort.Strings(names)
	var sb strings.Builder
	fmt.Fprintf(&sb, "%-12s %6s %10s %9s", "kind", "ops", "GFLOP", "GB")
	for _, n := range names {
		fmt.Fprintf(&sb, " %14s", n+" ms")
	}
	sb.WriteByte('\n')
	times := map[string]map[OpKind]float64{}
	for _, n := range names {
		times[n] = w.Seconds(rates[n])
	}
	row := func(label string, o OpWork, ms func(string) float64) {
		fmt.Fprintf(&sb, "%-12s %6d %10.1f %9.2f", label, o.Ops, o.FLOPs/1e9, o.Bytes/1e9)
		for _, n := range names {
			fmt.Fprintf(&sb, " %14.2f", ms(n))
		}
		sb.WriteByte('\n')
	}
	for _, k := range kinds {
		row(string(k), w[k], func(n string) float64 { return 1e3 * times[n][k] })
	}
	row("total", w.Total(), func(n string) float64 {
		var s float64
		for _, v := range times[n] {
			s += v
		}
		return 1e3 * s
	})
	return sb.String()
}
