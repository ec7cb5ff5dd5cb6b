package weights

import (
	"math/rand/v2"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// memorySource serves tensors from memory, sorted names as a Source must.
type memorySource map[string]Entry

func (m memorySource) Names() []string {
	var names []string
	for n := range m {
		names = append(names, n)
	}
	return names
}
func (m memorySource) Lookup(name string) (Entry, bool) { e, ok := m[name]; return e, ok }
func (m memorySource) Path() string                     { return "memory" }
func (m memorySource) Close() error                     { return nil }

type castLayer struct {
	Conv *tensor.Tensor `weight:"conv,channels_last"`
	Bias *tensor.Tensor `weight:"bias"`
}

// BindAs converts every tensor after its layout is applied: the bound conv
// is the stored F16 kernel moved channels-last, each value rounded once to
// BF16; the stored bytes are not touched.
func TestBindAsConvertsAfterTheLayout(t *testing.T) {
	const o, in, kh, kw = 3, 5, 3, 3
	rng := rand.New(rand.NewPCG(4, 5))
	conv := make([]float32, o*in*kh*kw)
	for i := range conv {
		conv[i] = float32(rng.NormFloat64())
	}
	bias := []float32{0.1, -2.7, 1e-3}
	convRaw, biasRaw := tensor.EncodeFloat32(tensor.F16, conv), tensor.EncodeFloat32(tensor.F16, bias)
	stored := string(convRaw)
	src := memorySource{
		"p.conv": {DType: tensor.F16, Shape: tensor.Shape{o, in, kh, kw}, Bytes: func() ([]byte, error) { return convRaw, nil }},
		"p.bias": {DType: tensor.F16, Shape: tensor.Shape{o}, Bytes: func() ([]byte, error) { return biasRaw, nil }},
	}
	b := cpu.New()
	var l castLayer
	bd := NewBinder(b, src)
	bd.BindAs("p.", &l, tensor.BF16)
	if err := bd.Err(); err != nil {
		t.Fatal(err)
	}
	defer b.Free(l.Conv)
	defer b.Free(l.Bias)
	if l.Conv.DType() != tensor.BF16 || l.Bias.DType() != tensor.BF16 {
		t.Fatalf("bound %v and %v, want BF16", l.Conv.DType(), l.Bias.DType())
	}
	if !l.Conv.Shape().Equal(tensor.Shape{o, kh, kw, in}) {
		t.Fatalf("conv bound as %v, want channels-last [%d %d %d %d]", l.Conv.Shape(), o, kh, kw, in)
	}
	asBF16 := func(x float32) float32 {
		return tensor.BF16ToF32(tensor.F32ToBF16(tensor.F16ToF32(tensor.F32ToF16(x))))
	}
	got := b.ToFloat32(l.Conv)
	for oc := range o {
		for y := range kh {
			for x := range kw {
				for ic := range in {
					want := asBF16(conv[((oc*in+ic)*kh+y)*kw+x])
					if g := got[((oc*kh+y)*kw+x)*in+ic]; g != want {
						t.Fatalf("conv[%d,%d,%d,%d] = %g, want %g", oc, y, x, ic, g, want)
					}
				}
			}
		}
	}
	for i, v := range b.ToFloat32(l.Bias) {
		if want := asBF16(bias[i]); v != want {
			t.Errorf("bias[%d] = %g, want %g", i, v, want)
		}
	}
	if string(convRaw) != stored {
		t.Error("BindAs changed the stored bytes")
	}

	// Bind after BindAs keeps the checkpoint's type.
	var plain castLayer
	bd.Bind("p.", &plain)
	defer b.Free(plain.Conv)
	defer b.Free(plain.Bias)
	if plain.Conv.DType() != tensor.F16 {
		t.Errorf("Bind after BindAs bound %v, want the stored F16", plain.Conv.DType())
	}
}
