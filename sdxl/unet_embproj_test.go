package sdxl

import (
	"math/rand"
	"testing"

	"github.com/gosdxl/gosdxl/internal/loratest"
	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/lora"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// columnsCPU is the CPU backend offering tensor.FusedNormConv2D, as a GPU
// backend does, and declining every call: the UNet then stacks its
// ResBlocks' embedding projections, and nn composes each block's
// convolution with its columns Slice-d out of the stacked result.
type columnsCPU struct {
	*cpu.Backend
	asked int
}

func (c *columnsCPU) Conv2DNormed(dst, x *tensor.Tensor, n tensor.ChannelNorm, w, bias *tensor.Tensor, imageBias tensor.Columns, residual *tensor.Tensor, stride, pad int) bool {
	c.asked++
	return false
}

// TestStackedEmbProjectionFollowsLoRA generates on the tiny model with the
// ResBlocks' emb_layers stacked into one Linear and without (the plain CPU
// backend): the same latents, bit for bit, before, with and after an
// adapter that changes an emb_layers weight, whose merge the stack must
// follow (rebuilt once, not per call); Close frees the stack.
func TestStackedEmbProjectionFollowsLoRA(t *testing.T) {
	ck, _ := tinyParsed(t)
	lb := &loratest.Builder{Ckpt: ck, R: rand.New(rand.NewSource(20)), DT: "F32"}
	adapter := &loratest.Adapter{Modules: []*loratest.Module{
		lb.LoRA(loratest.Target{Canonical: u + "output_blocks.0.0.emb_layers.1.weight", Key: "lora_unet_output_blocks_0_0_emb_layers_1"}, 4, 2, false),
		lb.LoRA(loratest.Target{Canonical: u + "input_blocks.1.0.emb_layers.1.weight", Key: "lora_unet_down_blocks_0_resnets_0_time_emb_proj"}, 4, 1, false),
	}}
	f := writeAdapter(t, t.TempDir(), "emb", adapter)
	uses := []lora.Use{{File: f, Name: "emb", UNet: 4, Text: 1}}

	stacked := &columnsCPU{Backend: cpu.NewMode(cpu.Strict)}
	requireNoLeaks(t, stacked.Backend)
	ms, err := LoadModel(refdata.TinyCheckpoint(t), stacked)
	if err != nil {
		t.Fatal(err)
	}
	mp, err := LoadModel(refdata.TinyCheckpoint(t), newTestCPU(t))
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Close()

	base := finalLatents(t, ms)
	requireSameBits(t, "stacked, no adapter", base, finalLatents(t, mp))
	first := ms.unet.embProj
	if first == nil || stacked.asked == 0 {
		t.Fatalf("the UNet did not stack its embedding projections (stack %v, %d fused calls asked)", first, stacked.asked)
	}
	if mp.unet.embProj != nil {
		t.Error("the plain CPU backend got a stacked copy it cannot read in place")
	}
	if ms.unet.stackedEmbProjection(stacked) != first {
		t.Error("the stack was rebuilt although no weight changed")
	}

	for _, m := range []*Model{ms, mp} {
		if err := m.ApplyLoRAs(uses); err != nil {
			t.Fatal(err)
		}
	}
	merged := finalLatents(t, ms)
	requireSameBits(t, "stacked, adapter merged", merged, finalLatents(t, mp))
	if ms.unet.embProj == first {
		t.Error("the stack was not rebuilt after the adapter changed emb_layers weights")
	}
	if d := relL2(base, merged); d < loraMinEffect {
		t.Errorf("the adapter moved the latents by %g (relative L2) only: the case tests nothing", d)
	}

	for _, m := range []*Model{ms, mp} {
		if err := m.ApplyLoRAs(nil); err != nil {
			t.Fatal(err)
		}
	}
	requireSameBits(t, "stacked, adapter taken out", finalLatents(t, ms), base)
	if err := ms.Close(); err != nil {
		t.Fatal(err)
	}
	if ms.unet.embProj != nil {
		t.Error("Close left the stacked projections")
	}
}
