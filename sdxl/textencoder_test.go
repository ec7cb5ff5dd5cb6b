package sdxl

import (
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/nlpodyssey/safetensors"

	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
	"github.com/gosdxl/gosdxl/weights"
)

// textTolerance is the relative L2 bound for text-encoder outputs: the
// reference README's suggested float32 bound, 5x under the smallest
// plausible mistake (tanh GELU, 1.7e-4) and 20x over the measured
// float32-vs-float64 spread (5.2e-7).
const textTolerance = 1e-5

// textGoldenTensor is one float32 golden with its shape.
type textGoldenTensor struct {
	shape []int
	data  []float32
}

var textGoldens = sync.OnceValues(func() (map[string]textGoldenTensor, error) {
	raw, err := os.ReadFile(referenceDir + "tiny-sdxl-a-goldens.safetensors")
	if err != nil {
		return nil, err
	}
	st, err := safetensors.Deserialize(raw)
	if err != nil {
		return nil, err
	}
	out := map[string]textGoldenTensor{}
	for _, nt := range st.Tensors() {
		name := nt.Name
		if !strings.HasPrefix(name, "te/") && !strings.HasPrefix(name, "enc/") && !strings.HasPrefix(name, "chunk/") {
			continue
		}
		v := nt.TensorView
		if v.DType() != safetensors.F32 {
			return nil, fmt.Errorf("golden %s is %v, want F32", name, v.DType())
		}
		g := textGoldenTensor{data: make([]float32, len(v.Data())/4)}
		for _, d := range v.Shape() {
			g.shape = append(g.shape, int(d))
		}
		for i := range g.data {
			b := v.Data()[4*i:]
			g.data[i] = math.Float32frombits(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
		}
		out[name] = g
	}
	return out, nil
})

func textGolden(t testing.TB, name string) textGoldenTensor {
	t.Helper()
	all, err := textGoldens()
	if err != nil {
		t.Fatal(err)
	}
	g, ok := all[name]
	if !ok {
		t.Fatalf("no golden %s", name)
	}
	return g
}

// textRelL2 is ||got - want|| / ||want|| in float64.
func textRelL2(got, want []float32) float64 {
	var num, den float64
	for i := range want {
		d := float64(got[i]) - float64(want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(num / den)
}

// checkText compares rows of got against a golden, both flattened.
func checkText(t testing.TB, name string, got []float32, want textGoldenTensor) {
	t.Helper()
	if len(got) != len(want.data) {
		t.Errorf("%s: %d values, golden %v has %d", name, len(got), want.shape, len(want.data))
		return
	}
	rel := textRelL2(got, want.data)
	if rel > textTolerance || math.IsNaN(rel) {
		t.Errorf("%s: relative L2 %.3g > %g", name, rel, textTolerance)
	} else {
		t.Logf("%s: relative L2 %.3g", name, rel)
	}
}

// tinyTextEncoders binds both encoders of the tiny reference checkpoint on
// the CPU backend and checks that nothing under their prefixes is left over.
func tinyTextEncoders(t testing.TB) (*TextEncoders, tensor.Backend) {
	t.Helper()
	src, err := weights.Open(refdata.TinyCheckpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	cfg, err := weights.InferConfig(src)
	if err != nil {
		t.Fatal(err)
	}
	b := cpu.New()
	enc, err := NewTextEncoders(cfg.TextEncoder1, cfg.TextEncoder2)
	if err != nil {
		t.Fatal(err)
	}
	bd := weights.NewBinder(b, src)
	enc.Bind(bd)
	if err := bd.Err(); err != nil {
		t.Fatal(err)
	}
	for _, name := range bd.Unused() {
		if strings.HasPrefix(name, weights.TextEncoder1Prefix) || strings.HasPrefix(name, weights.TextEncoder2Prefix) {
			t.Errorf("text encoder tensor %s was not bound", name)
		}
	}
	return enc, b
}

// Both encoders on the tokenizer ids of every reference prompt, as one
// batch, against transformers' hidden states and pooled outputs.
func TestTextEncodersMatchTransformers(t *testing.T) {
	enc, b := tinyTextEncoders(t)
	cases := loadReferenceCases(t)
	var names []string
	var ids1, ids2 [][]int32
	for name, p := range cases.Prompts {
		names = append(names, name)
		ids1 = append(ids1, p.Tokenizer.IDs77)
		ids2 = append(ids2, p.Tokenizer2.IDs77)
	}
	out1 := enc.CLIPL.Forward(b, tensor.F32, ids1, true)
	out2 := enc.BigG.Forward(b, tensor.F32, ids2, true)
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		golden string
		t      *tensor.Tensor
	}{
		{"te1_penultimate", out1.Penultimate}, {"te1_last_hidden_state", out1.Last}, {"te1_pooler_output", out1.Pooled},
		{"te2_penultimate", out2.Penultimate}, {"te2_last_hidden_state", out2.Last}, {"te2_text_embeds", out2.Pooled},
	} {
		all := b.ToFloat32(c.t)
		per := len(all) / len(names)
		for i, p := range names {
			name := "te/" + p + "/" + c.golden
			checkText(t, name, all[i*per:(i+1)*per], textGolden(t, name))
		}
	}
}

func TestTextEncoderConfigErrors(t *testing.T) {
	good := weights.TextEncoderConfig{Hidden: 64, Layers: 3, Heads: 1, Intermediate: 128, Vocab: VocabSize, Positions: 77}
	for _, c := range []struct {
		change func(*weights.TextEncoderConfig)
		want   string
	}{
		{func(c *weights.TextEncoderConfig) { c.Vocab = 32000 }, "vocabulary"},
		{func(c *weights.TextEncoderConfig) { c.Heads = 3 }, "heads"},
		{func(c *weights.TextEncoderConfig) { c.Layers = 1 }, "2 layers"},
		{func(c *weights.TextEncoderConfig) { c.Positions = 64 }, "positions"},
	} {
		cfg := good
		c.change(&cfg)
		_, err := NewTextEncoders(cfg, good)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "text encoder 1") {
			t.Errorf("%+v: err = %v, want one naming text encoder 1 and %q", cfg, err, c.want)
		}
	}
}
