// Package lora merges LoRA-family adapters into a bound SDXL model, as
// kohya-ss sd-scripts trains them and A1111 applies them.
//
// An adapter file is read by Open: its tensor names say the naming (kohya's
// lora_unet_/lora_te1_/lora_te2_ in both the SGM and the diffusers spelling
// of the UNet, or diffusers/PEFT's unet./text_encoder./text_encoder_2.) and
// the format of each module (LoRA and LoCon: lora_down/lora_up or
// lora_A/lora_B; LyCORIS LoHa: hada_w1_a…; LyCORIS LoKr: lokr_w1…). Every
// module is mapped onto one canonical (SGM) checkpoint tensor by one table
// (keys.go), built from the checkpoint's configuration and the weights
// package's diffusers↔SGM table.
//
// A Merger adds strength · scale · ΔW to each targeted weight, with ΔW the
// module's product (up·down, (w1a·w1b)⊙(w2a·w2b), w1⊗w2) and scale alpha/rank
// as A1111 computes it. Each weight is widened to float32, every adapter's
// contribution added in float32, and the sum rounded once to the weight's
// dtype, on whatever backend holds it, one tensor at a time. Unmerge puts
// back the checkpoint's own bytes, read again from its mapped file.
package lora
