package lora

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/internal/loratest"
	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/weights"
)

// fullSizeTensors opens the full-size SDXL checkpoint as a sparse file made
// from its manifest and lists its tensors: what the model declares, as the
// sdxl package's tests prove against the model's dry-run bind (this package
// cannot import sdxl, which imports it).
func fullSizeTensors(t testing.TB) (weights.Expected, *weights.Checkpoint) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sdxl.safetensors")
	if err := loratest.WriteSparseCheckpoint(refdata.Path(t, "manifest-sdxl-sgm.json"), path); err != nil {
		t.Fatal(err)
	}
	c, err := weights.OpenCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := weights.InferConfig(c); err != nil {
		t.Fatal(err)
	}
	return listTensors(c), c
}

// listTensors lists every tensor of src with its shape.
func listTensors(src weights.Source) weights.Expected {
	out := weights.Expected{}
	for _, n := range src.Names() {
		e, _ := src.Lookup(n)
		out[n] = weights.ExpectedTensor{Shape: e.Shape}
	}
	return out
}

// Module keys as real SDXL adapters spell them, with their targets written
// out by hand.
func TestKeyTableFullSize(t *testing.T) {
	tensors, c := fullSizeTensors(t)
	keys := KeyTable(tensors)
	u, t1, t2 := weights.UNetPrefix, weights.TextEncoder1Prefix, weights.TextEncoder2Prefix
	want := map[string]Target{
		"lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q":               {u + "input_blocks.4.1.transformer_blocks.0.attn1.to_q.weight", 0, 1},
		"lora_unet_middle_block_1_transformer_blocks_9_ff_net_2":                   {u + "middle_block.1.transformer_blocks.9.ff.net.2.weight", 0, 1},
		"lora_unet_output_blocks_2_2_conv":                                         {u + "output_blocks.2.2.conv.weight", 0, 1},
		"lora_unet_input_blocks_7_0_in_layers_2":                                   {u + "input_blocks.7.0.in_layers.2.weight", 0, 1},
		"lora_unet_down_blocks_2_attentions_1_transformer_blocks_9_attn2_to_out_0": {u + "input_blocks.8.1.transformer_blocks.9.attn2.to_out.0.weight", 0, 1},
		"lora_unet_up_blocks_0_attentions_2_proj_out":                              {u + "output_blocks.2.1.proj_out.weight", 0, 1},
		"lora_unet_up_blocks_1_upsamplers_0_conv":                                  {u + "output_blocks.5.2.conv.weight", 0, 1},
		"lora_unet_up_blocks_2_resnets_0_conv_shortcut":                            {u + "output_blocks.6.0.skip_connection.weight", 0, 1},
		"lora_unet_down_blocks_0_downsamplers_0_conv":                              {u + "input_blocks.3.0.op.weight", 0, 1},
		"lora_unet_time_embedding_linear_1":                                        {u + "time_embed.0.weight", 0, 1},
		"unet.mid_block.attentions.0.transformer_blocks.0.attn1.to_k":              {u + "middle_block.1.transformer_blocks.0.attn1.to_k.weight", 0, 1},
		"lora_te1_text_model_encoder_layers_11_mlp_fc2":                            {t1 + "encoder.layers.11.mlp.fc2.weight", 0, 1},
		"text_encoder.text_model.encoder.layers.0.self_attn.out_proj":              {t1 + "encoder.layers.0.self_attn.out_proj.weight", 0, 1},
		"lora_te2_text_model_encoder_layers_31_self_attn_v_proj":                   {t2 + "transformer.resblocks.31.attn.in_proj_weight", 2, 3},
		"lora_te2_text_model_encoder_layers_0_self_attn_q_proj":                    {t2 + "transformer.resblocks.0.attn.in_proj_weight", 0, 3},
		"text_encoder_2.text_model.encoder.layers.5.mlp.fc1":                       {t2 + "transformer.resblocks.5.mlp.c_fc.weight", 0, 1},
	}
	for k, w := range want {
		if got, ok := keys[k]; !ok || got != w {
			t.Errorf("%s → %+v (found %v), want %+v", k, got, ok, w)
		}
	}
	// Nothing maps onto a norm, a bias, an embedding table or the VAE, and
	// every target exists with a matrix or kernel shape.
	for k, tg := range keys {
		e, ok := c.Lookup(tg.Canonical)
		if !ok || len(e.Shape) < 2 || e.Shape[0]%tg.Blocks != 0 {
			t.Errorf("%s → %s: not a weight of the checkpoint (shape %v)", k, tg.Canonical, e.Shape)
		}
		if strings.Contains(tg.Canonical, "first_stage_model") || strings.Contains(tg.Canonical, "embedding") {
			t.Errorf("%s → %s: not an adapter target", k, tg.Canonical)
		}
	}
	// Both kohya spellings of the UNet cover the same weights.
	sgm, diff := map[string]bool{}, map[string]bool{}
	for k, tg := range keys {
		switch {
		case strings.HasPrefix(k, "lora_unet_input_blocks_"), strings.HasPrefix(k, "lora_unet_middle_block_"), strings.HasPrefix(k, "lora_unet_output_blocks_"):
			sgm[tg.Canonical] = true
		case strings.HasPrefix(k, "lora_unet_down_blocks_"), strings.HasPrefix(k, "lora_unet_mid_block_"), strings.HasPrefix(k, "lora_unet_up_blocks_"), k == "lora_unet_conv_in":
			diff[tg.Canonical] = true
		}
	}
	if len(sgm) != len(diff) || len(sgm) < 700 {
		t.Errorf("%d UNet block weights in the SGM spelling, %d in the diffusers spelling", len(sgm), len(diff))
	}
	for n := range sgm {
		if !diff[n] {
			t.Errorf("%s has no diffusers-spelt key", n)
		}
	}
}
