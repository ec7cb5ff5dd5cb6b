package sdxl

import (
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/prompt"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// checkText compares rows of got against a golden, both flattened.
func checkText(t testing.TB, name string, got []float32, want goldenTensor) {
	t.Helper()
	if len(got) != len(want.data) {
		t.Errorf("%s: %d values, golden %v has %d", name, len(got), want.shape, len(want.data))
		return
	}
	checkRel(t, name, relL2(got, want.data), componentTol)
}

// tinyTextEncoders binds both encoders of the tiny reference checkpoint on
// b, their weights converted to dt as LoadModel does for a half-precision
// Text (0: as stored), and checks that nothing under their prefixes is
// left over.
func tinyTextEncoders(t testing.TB, b tensor.Backend, dt tensor.DType) *TextEncoders {
	t.Helper()
	src := openTinyCheckpoint(t)
	cfg, err := weights.InferConfig(src)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := NewTextEncoders(cfg.TextEncoder1, cfg.TextEncoder2)
	if err != nil {
		t.Fatal(err)
	}
	bd := weights.NewBinder(b, src)
	enc.Bind(bd, dt)
	freeAtEnd(t, b, bd.Tensors()...)
	requireAllBound(t, bd, weights.TextEncoder1Prefix, weights.TextEncoder2Prefix)
	return enc
}

// checkTextEncoderGoldens runs both encoders on the tokenizer ids of every
// reference prompt, as one batch, and compares them with transformers'
// hidden states and pooled outputs.
func checkTextEncoderGoldens(t testing.TB, b tensor.Backend, enc *TextEncoders) {
	t.Helper()
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
			checkText(t, name, all[i*per:(i+1)*per], golden(t, name))
		}
	}
	for _, x := range []*tensor.Tensor{out1.Penultimate, out1.Last, out1.Pooled, out2.Penultimate, out2.Last, out2.Pooled} {
		b.Free(x)
	}
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
}

func TestTextEncodersMatchTransformers(t *testing.T) {
	b := newTestCPU(t)
	checkTextEncoderGoldens(t, b, tinyTextEncoders(t, b, 0))
}

func TestTextEncoderConfigErrors(t *testing.T) {
	good := weights.TextEncoderConfig{Hidden: 64, Layers: 3, Heads: 1, Intermediate: 128, Vocab: prompt.VocabSize, Positions: 77}
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
