package sdxl

import (
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// storedAs serves a source's float tensors re-encoded as dt: the same
// model as a checkpoint saved in another type.
type storedAs struct {
	weights.Source
	dt tensor.DType
}

func (s storedAs) Lookup(name string) (weights.Entry, bool) {
	e, ok := s.Source.Lookup(name)
	if !ok || !e.DType.IsFloat() {
		return e, ok
	}
	from, read := e.DType, e.Bytes
	e.DType = s.dt
	e.Bytes = func() ([]byte, error) {
		raw, err := read()
		if err != nil {
			return nil, err
		}
		return tensor.ConvertBytes(from, s.dt, raw), nil
	}
	return e, true
}

// Whatever type a checkpoint stores, a network run in a half type gets its
// weights in that type (the tensor-core kernels take only matching types),
// and a float32 network keeps the checkpoint's.
func TestWeightsAreBoundInTheTypeTheNetworkComputesIn(t *testing.T) {
	b := newTestCPU(t)
	gpuLike := Precision{Text: tensor.F32, UNet: tensor.F16, VAE: tensor.BF16}
	gpuDefault := Precision{Text: tensor.F16, UNet: tensor.F16, VAE: tensor.BF16}
	for _, c := range []struct {
		stored                tensor.DType
		p                     Precision
		unet, vae, textStored tensor.DType
	}{
		{tensor.BF16, gpuLike, tensor.F16, tensor.BF16, tensor.BF16},
		{tensor.F32, gpuLike, tensor.F16, tensor.BF16, tensor.F32},
		{tensor.F16, gpuLike, tensor.F16, tensor.BF16, tensor.F16},
		{tensor.BF16, DefaultPrecision(b), tensor.BF16, tensor.BF16, tensor.BF16}, // the CPU: F32 math, stored weights
		{tensor.BF16, gpuDefault, tensor.F16, tensor.BF16, tensor.F16},            // the GPU's default: F16 text encoders
		{tensor.F32, gpuDefault, tensor.F16, tensor.BF16, tensor.F16},
	} {
		m, err := bindModel(storedAs{openTinyCheckpoint(t), c.stored}, b, c.p)
		if err != nil {
			t.Fatal(err)
		}
		got := [3]tensor.DType{m.unet.OutConv.Weight.DType(), m.vae.PostQuantConv.Weight.DType(), m.text.BigG.FinalNorm.Weight.DType()}
		if want := [3]tensor.DType{c.unet, c.vae, c.textStored}; got != want {
			t.Errorf("stored %v, precision %+v: UNet, VAE, text weights bound as %v, want %v", c.stored, c.p, got, want)
		}
		m.freeWeights()
	}
}
