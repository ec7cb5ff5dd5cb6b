// Package sdxl is the Stable Diffusion XL model and its pipeline: the
// middle of the data flow, from token ids to pixels. Package prompt comes
// before it (text to the ids of 77-token chunks); internal/infotext after
// it (the PNG and its A1111 "parameters" text, written by gen and the
// server). In the order the files take a request:
//
//   - The request: pipeline.go (Request, Result) and request_validate.go
//     (Request.Validate, the one definition of a runnable request, with
//     hires_validate.go and inpaint_validate.go for the hires fix's and
//     inpainting's rules; gen and the server call it before loading or
//     decoding anything and name the fields their own way from its
//     RequestError).
//   - Tokens to conditioning: textencoder*.go (CLIP ViT-L and OpenCLIP
//     bigG, penultimate states and the pooled vector), embedding.go
//     (textual-inversion vectors installed in the encoders) and
//     conditioning.go (both prompts, A1111 emphasis, size and crop time
//     ids).
//   - The networks: unet*.go (the SGM block layout, timestep and label
//     embeddings, the context's cross-attention K/V prepared once:
//     unet_context.go), vae*.go (decoder, encoder, diffusers' tiling and its
//     memory estimate), model*.go (loading through the Binder, the one
//     tensor listing of a configuration, LoRA merging, and model_calls.go:
//     inputs planned once per generation, NCHW float32 at the edges, with
//     layout.go's conversions).
//   - The pipeline: pipeline_*.go (txt2img and img2img with CFG over a
//     sampler from package sampler), hires.go (A1111's two-pass hires fix),
//     inpaint*.go (masked img2img with latent blending and pixel
//     compositing).
//   - Pixels: image.go (pixels ↔ tensors, loading an init image).
//
// Debugging is off the main path: a Request.Observe (observe.go) is shown
// the intermediate tensors under diffusers' names; gen --dump writes them
// with package internal/dump.
//
// The layers come from package nn and run on any tensor.Backend; weights
// are named and bound by package weights.
package sdxl
