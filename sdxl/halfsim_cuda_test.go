//go:build cuda

package sdxl

import (
	"reflect"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// halfSimBackend predicts on the CPU how far a network with 16-bit
// activations lands from the float32 reference, so that the GPU tolerances
// below are derived rather than guessed. The GPU kernels read 16-bit
// operands, accumulate in float32 and round once when they store; this
// backend computes every op in float32 on the CPU backend and then rounds
// its output to the 16-bit type, which is the same arithmetic up to the
// summation order.
//
// Only one network is simulated at a time: an op's output is rounded when
// one of its inputs is a weight of that network (see markWeights) or an
// output rounded before. Everything else (the text encoders and the VAE in
// a pipeline run, data uploaded from the host) stays float32, as on the GPU
// with the default precision.
type halfSimBackend struct {
	*cpu.Backend
	round   func(float32) float32
	rounded map[*tensor.Tensor]bool
}

func newHalfSim(dt tensor.DType) *halfSimBackend {
	round := func(v float32) float32 { return tensor.F16ToF32(tensor.F32ToF16(v)) }
	if dt == tensor.BF16 {
		round = func(v float32) float32 { return tensor.BF16ToF32(tensor.F32ToBF16(v)) }
	}
	return &halfSimBackend{Backend: cpu.New(), round: round, rounded: map[*tensor.Tensor]bool{}}
}

// markWeights makes every tensor in the exported fields of network (a
// *UNet, *VAE, ...) a trigger for rounding.
func (s *halfSimBackend) markWeights(network any) {
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				return
			}
			if t, ok := v.Interface().(*tensor.Tensor); ok {
				s.rounded[t] = true
				return
			}
			walk(v.Elem())
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		case reflect.Slice, reflect.Array:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		}
	}
	walk(reflect.ValueOf(network))
}

// after rounds dst in place when any input is a marked tensor.
func (s *halfSimBackend) after(dst *tensor.Tensor, inputs ...*tensor.Tensor) {
	for _, in := range inputs {
		if in != nil && s.rounded[in] {
			data := dst.Storage().([]float32)
			for i, v := range data {
				data[i] = s.round(v)
			}
			s.rounded[dst] = true
			return
		}
	}
}

func (s *halfSimBackend) Name() string { return "cpu" }

func (s *halfSimBackend) Free(t *tensor.Tensor) {
	delete(s.rounded, t)
	s.Backend.Free(t)
}

func (s *halfSimBackend) Linear(dst, x, w, bias *tensor.Tensor) {
	s.Backend.Linear(dst, x, w, bias)
	s.after(dst, x, w, bias)
}

func (s *halfSimBackend) Conv2D(dst, x, w, bias *tensor.Tensor, stride, pad int) {
	s.Backend.Conv2D(dst, x, w, bias, stride, pad)
	s.after(dst, x, w, bias)
}

func (s *halfSimBackend) GroupNorm(dst, x, gamma, beta *tensor.Tensor, groups int, eps float32, silu bool) {
	s.Backend.GroupNorm(dst, x, gamma, beta, groups, eps, silu)
	s.after(dst, x, gamma, beta)
}

func (s *halfSimBackend) LayerNorm(dst, x, gamma, beta *tensor.Tensor, eps float32) {
	s.Backend.LayerNorm(dst, x, gamma, beta, eps)
	s.after(dst, x, gamma, beta)
}

func (s *halfSimBackend) Attention(dst, q, k, v *tensor.Tensor, heads int, causal bool) {
	s.Backend.Attention(dst, q, k, v, heads, causal)
	s.after(dst, q, k, v)
}

func (s *halfSimBackend) Unary(dst, x *tensor.Tensor, op tensor.UnaryOp) {
	s.Backend.Unary(dst, x, op)
	s.after(dst, x)
}

func (s *halfSimBackend) GEGLU(dst, x *tensor.Tensor) {
	s.Backend.GEGLU(dst, x)
	s.after(dst, x)
}

func (s *halfSimBackend) Binary(dst, a, b *tensor.Tensor, op tensor.BinaryOp) {
	s.Backend.Binary(dst, a, b, op)
	s.after(dst, a, b)
}

func (s *halfSimBackend) ResizeNearest(dst, x *tensor.Tensor) {
	s.Backend.ResizeNearest(dst, x)
	s.after(dst, x)
}

func (s *halfSimBackend) Concat(dst, a, b *tensor.Tensor) {
	s.Backend.Concat(dst, a, b)
	s.after(dst, a, b)
}

func (s *halfSimBackend) Slice(dst, x *tensor.Tensor, offset int) {
	s.Backend.Slice(dst, x, offset)
	s.after(dst, x)
}

func (s *halfSimBackend) Cast(dst, x *tensor.Tensor) {
	s.Backend.Cast(dst, x)
	s.after(dst, x)
}

// roundedInput returns a copy of the F32 host data rounded like an upload
// in the simulated type (the GPU tests upload inputs in that type).
func (s *halfSimBackend) roundedInput(t *tensor.Tensor) *tensor.Tensor {
	data := s.ToFloat32(t)
	for i, v := range data {
		data[i] = s.round(v)
	}
	return s.FromFloat32(tensor.F32, t.Shape(), data)
}
