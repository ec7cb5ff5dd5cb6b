package lora

import (
	"strings"

	"github.com/gosdxl/gosdxl/weights"
)

// Target is where a module's ΔW goes: a canonical checkpoint weight, or one
// of its equal row blocks (a kohya/PEFT q, k or v module of OpenCLIP bigG,
// whose q, k, v projections the checkpoint stores fused as in_proj_weight).
type Target struct {
	Canonical     string
	Block, Blocks int
}

// KeyTable maps every module key an SDXL adapter may use onto its target,
// for a model that declares the tensors want (sdxl.ExpectedTensors):
//
//   - kohya, SGM spelling of the UNet: lora_unet_ + the canonical name under
//     model.diffusion_model. with dots as underscores
//     (lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q);
//   - kohya, diffusers spelling: lora_unet_/lora_te1_/lora_te2_ + the
//     diffusers name with dots as underscores
//     (lora_unet_down_blocks_1_attentions_0_…, lora_te2_text_model_encoder_layers_0_self_attn_q_proj);
//   - diffusers/PEFT: unet./text_encoder./text_encoder_2. + the diffusers
//     module name (unet.down_blocks.1.attentions.0.…attn1.to_q).
//
// The diffusers names come from weights.DiffusersNames, the table that also
// opens diffusers folders. The VAE, embeddings, norms and biases are no
// adapter's targets and are left out.
func KeyTable(want weights.Expected) map[string]Target {
	t := map[string]Target{}
	for name, w := range want {
		mod, ok := strings.CutSuffix(strings.TrimPrefix(name, weights.UNetPrefix), ".weight")
		if ok && strings.HasPrefix(name, weights.UNetPrefix) && len(w.Shape) >= 2 {
			t["lora_unet_"+underscore(mod)] = Target{Canonical: name, Blocks: 1}
		}
	}
	prefixes := map[string][2]string{
		"unet":           {"lora_unet_", "unet."},
		"text_encoder":   {"lora_te1_", "text_encoder."},
		"text_encoder_2": {"lora_te2_", "text_encoder_2."},
	}
	for dname, d := range weights.DiffusersNames(want) {
		comp, name := weights.SplitDiffusersName(dname)
		p, ok := prefixes[comp]
		mod, isWeight := strings.CutSuffix(name, ".weight")
		if !ok || !isWeight || d.Transformed || strings.Contains(mod, "embeddings") {
			continue
		}
		if len(want[d.Canonical].Shape) < 2 {
			continue // norm layers: 1-D, no adapter's target
		}
		tg := Target{Canonical: d.Canonical, Block: d.Block, Blocks: d.Blocks}
		t[p[0]+underscore(mod)] = tg
		t[p[1]+mod] = tg
	}
	return t
}

func underscore(s string) string { return strings.ReplaceAll(s, ".", "_") }
