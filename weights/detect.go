package weights

import (
	"fmt"
	"strings"
)

// identify recognises files that are not an SDXL base-type checkpoint from
// their names alone, and says what they are.
func identify(names []string) error {
	if len(names) == 0 {
		return fmt.Errorf("the checkpoint has no tensors")
	}
	has := func(prefix string) bool {
		for _, n := range names {
			if strings.HasPrefix(n, prefix) {
				return true
			}
		}
		return false
	}
	for _, n := range names {
		if kind := adapterKind(n); kind != "" {
			return fmt.Errorf("a %s adapter (tensor %q), not a full checkpoint: give it with --lora (or <lora:NAME:W> in the prompt) beside a full SDXL checkpoint", kind, n)
		}
	}
	switch {
	case has("cond_stage_model.model."):
		return fmt.Errorf("a Stable Diffusion 2.x checkpoint (OpenCLIP-H text encoder under cond_stage_model.model.*): only SDXL is supported")
	case has("cond_stage_model."):
		return fmt.Errorf("a Stable Diffusion 1.x checkpoint (CLIP text encoder under cond_stage_model.*): only SDXL is supported")
	case has("control_model.") || has("controlnet_cond_embedding."):
		return fmt.Errorf("a ControlNet, not a full checkpoint: only SDXL base checkpoints are supported")
	case !has(UNetPrefix) && (has("encoder.conv_in.") || has("decoder.conv_in.")):
		return fmt.Errorf("a VAE alone (encoder.*/decoder.* tensors, no UNet), not a full checkpoint")
	case !has(UNetPrefix) && (has("clip_l") || has("clip_g") || has("emb_params") || has("string_to_param")):
		return fmt.Errorf("a textual-inversion embedding, not a full checkpoint: put it in --embedding-dir and write its name in the prompt")
	case !has(UNetPrefix):
		return fmt.Errorf("not a Stable Diffusion checkpoint: no UNet tensors (%s*) among its %d tensors (first: %q)", UNetPrefix, len(names), names[0])
	case has("conditioner.embedders.0.model.") && !has("conditioner.embedders.1."):
		return fmt.Errorf("the SDXL refiner (a single OpenCLIP bigG text encoder as conditioner.embedders.0): only SDXL base-type checkpoints are supported")
	}
	return nil
}

// adapterKind names the adapter type a tensor name belongs to, or "".
func adapterKind(name string) string {
	switch {
	case strings.Contains(name, ".hada_") || strings.Contains(name, ".lokr_"):
		return "LyCORIS"
	case strings.HasPrefix(name, "lora_unet_"), strings.HasPrefix(name, "lora_te"),
		strings.Contains(name, ".lora_down."), strings.Contains(name, ".lora_up."),
		strings.Contains(name, ".lora_A."), strings.Contains(name, ".lora_B."):
		return "LoRA"
	}
	return ""
}

// checkUNetKind recognises other model families from the UNet's widths.
// It runs even when part of the configuration could not be read, so that
// zero values are never taken for a family.
func checkUNetKind(u UNetConfig) error {
	switch {
	case u.ContextDim == 768:
		return fmt.Errorf("a Stable Diffusion 1.x-shaped UNet (context width 768): only SDXL is supported")
	case u.ContextDim == 1024:
		return fmt.Errorf("a Stable Diffusion 2.x-shaped UNet (context width 1024): only SDXL is supported")
	case u.ContextDim == 1280 && u.ADMInChannels == 2560:
		return fmt.Errorf("the SDXL refiner (context width 1280, label_emb input 2560 with aesthetic score): only SDXL base-type checkpoints are supported")
	case u.InChannels != 0 && u.InChannels != 4:
		return fmt.Errorf("a UNet with %d input channels (an inpainting or instruct model?): only 4-channel SDXL base-type UNets are supported", u.InChannels)
	}
	return nil
}
