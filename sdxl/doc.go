// Package sdxl is the Stable Diffusion XL model and its pipeline: one
// tensor's way from a prompt to a PNG, in the order the files take it.
//
//   - Text to tokens: tokenizer.go, tokenizer_clean.go and bpe.go (CLIP's
//     byte-pair encoding, vocabulary embedded from vocab/), prompt*.go
//     (A1111 syntax: emphasis, escapes, BREAK, 75-token chunks) and
//     embedding.go (textual-inversion vectors spliced into the chunks).
//   - Tokens to conditioning: textencoder*.go (CLIP ViT-L and OpenCLIP
//     bigG, penultimate states and the pooled vector) and conditioning.go
//     (both prompts, A1111 emphasis, size and crop time ids).
//   - The networks: unet*.go (the SGM block layout, timestep and label
//     embeddings), vae*.go (decoder, encoder, diffusers' tiling and its
//     memory estimate), model*.go (loading through the Binder, the one
//     tensor listing of a configuration, LoRA merging, and model_calls.go:
//     inputs planned once per generation, NCHW float32 at the edges).
//   - The pipeline: pipeline*.go (txt2img and img2img with CFG over a
//     sampler from package sampler, request bounds, dumps), hires.go (A1111's
//     two-pass hires fix), inpaint*.go (masked img2img with latent blending
//     and pixel compositing).
//   - Images: image.go (pixels ↔ tensors, loading), image_png.go and
//     image_params*.go (PNG files carrying A1111's "parameters" text, read
//     back by gen --from and the server).
//
// The layers come from package nn and run on any tensor.Backend; weights
// are named and bound by package weights.
package sdxl
