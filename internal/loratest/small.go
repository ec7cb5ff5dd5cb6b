package loratest

import (
	"math/rand"
	"path/filepath"

	"github.com/gosdxl/gosdxl/weights"
)

// WriteSmall stores a small kohya LoRA for the checkpoint at ckptPath as
// dir/name.safetensors: an attention projection, a conv and a first text
// encoder projection, rank 4, SDXL metadata. mutate (optional) edits the
// file before it is written, to make bad ones.
func WriteSmall(ckptPath, dir, name string, mutate func(*File)) (string, error) {
	u, t1 := weights.UNetPrefix, weights.TextEncoder1Prefix
	targets := []Target{
		{Canonical: u + "input_blocks.4.1.transformer_blocks.0.attn1.to_q.weight", Key: "lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q"},
		{Canonical: u + "input_blocks.1.0.in_layers.2.weight", Key: "lora_unet_input_blocks_1_0_in_layers_2"},
		{Canonical: t1 + "encoder.layers.0.self_attn.q_proj.weight", Key: "lora_te1_text_model_encoder_layers_0_self_attn_q_proj", Text: true},
	}
	var names []string
	for _, t := range targets {
		names = append(names, t.Canonical)
	}
	ck, err := ReadTensors(ckptPath, names...)
	if err != nil {
		return "", err
	}
	b := &Builder{Ckpt: ck, R: rand.New(rand.NewSource(3)), DT: "F16"}
	a := &Adapter{}
	for _, t := range targets {
		a.Modules = append(a.Modules, b.LoRA(t, 4, 4, false))
	}
	f := a.File()
	f.Metadata = map[string]string{"ss_base_model_version": "sdxl_base_v1-0"}
	if mutate != nil {
		mutate(f)
	}
	path := filepath.Join(dir, name+".safetensors")
	return path, Write(path, f, nil)
}
