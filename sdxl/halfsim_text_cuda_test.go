//go:build cuda

package sdxl

import (
	"fmt"
	"math"
	"testing"

	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/prompt"
	"github.com/gosdxl/gosdxl/tensor"
)

// The text encoders in float16: what the GPU runs them in by default. The
// simulation (halfSimBackend, weights converted to F16 as the GPU binds
// them) measures the spread it causes against diffusers' float32
// encode_prompt goldens; the GPU tests hold it to bounds derived from it
// (gpu_tolerance_cuda_test.go).

// Gather of a simulated network's table (the token and position
// embeddings) starts its rounding chain.
func (s *halfSimBackend) Gather(dst, table, ids *tensor.Tensor) {
	s.Backend.Gather(dst, table, ids)
	s.after(dst, table)
}

// textEncodeSpread runs every enc/<i> golden case (diffusers'
// encode_prompt, the negatives included) through enc on b with activations
// of type dt, and returns the worst relative L2 of the embeddings and of
// the pooled embeddings, and the largest magnitude seen in either.
func textEncodeSpread(t testing.TB, b tensor.Backend, enc *TextEncoders, dt tensor.DType) (embeds, pooled, maxAbs float64) {
	t.Helper()
	cases := loadReferenceCases(t)
	if len(cases.EncodePrompt) == 0 {
		t.Fatal("no encode_prompt cases")
	}
	for _, c := range cases.EncodePrompt {
		opt := EncodeOptions{Prompt: cases.Prompts[c.Prompt].Text, Syntax: prompt.SyntaxNone, Width: 192, Height: 128, DType: dt}
		if c.NegativePrompt != nil {
			text := cases.Prompts[*c.NegativePrompt].Text
			opt.Negative = &text
		}
		cond, err := enc.Encode(b, opt)
		if err != nil {
			t.Fatal(err)
		}
		g := fmt.Sprintf("enc/%d/", c.Index)
		parts := []struct {
			name   string
			got    []float32
			pooled bool
		}{{"prompt_embeds", cond.PromptEmbeds, false}, {"pooled_prompt_embeds", cond.PooledEmbeds, true}}
		if c.NegativePrompt != nil {
			parts = append(parts, struct {
				name   string
				got    []float32
				pooled bool
			}{"negative_prompt_embeds", cond.NegativeEmbeds, false},
				struct {
					name   string
					got    []float32
					pooled bool
				}{"negative_pooled_prompt_embeds", cond.NegativePooled, true})
		}
		for _, p := range parts {
			want := golden(t, g+p.name)
			if len(p.got) != len(want.data) {
				t.Fatalf("%s%s: %d values, golden has %d", g, p.name, len(p.got), len(want.data))
			}
			rel := relL2(p.got, want.data)
			if p.pooled {
				pooled = math.Max(pooled, rel)
			} else {
				embeds = math.Max(embeds, rel)
			}
			for _, v := range p.got {
				maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
			}
		}
	}
	return embeds, pooled, maxAbs
}

// simTinyText returns the simulated spread of the text encoders with
// weights and activations in dt.
func simTinyText(t testing.TB, dt tensor.DType) (embeds, pooled float64) {
	sim := newHalfSim(dt)
	enc := tinyTextEncoders(t, sim, dt)
	sim.markWeights(enc)
	embeds, pooled, _ = textEncodeSpread(t, sim, enc, tensor.F32)
	return embeds, pooled
}

// simPipelineText runs the t2i_euler_a_6 case with the text encoders'
// weights and activations rounded to F16, and the UNet's activations too
// when unet is set (the GPU's default), and returns the final latents'
// relative L2 and the PNG's PSNR.
func simPipelineText(t *testing.T, unet bool) (latents, psnr float64) {
	sim := newHalfSim(tensor.F16)
	load := Precision{Text: tensor.F16, UNet: tensor.F32, VAE: tensor.F32}
	m, err := LoadModelWith(refdata.TinyCheckpoint(t), sim, LoadOptions{Precision: load})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if dt := m.text.BigG.TokenEmbedding.DType(); dt != tensor.F16 {
		t.Fatalf("text weights bound as %v, want F16", dt)
	}
	m.Precision = Precision{Text: tensor.F32, UNet: tensor.F32, VAE: tensor.F32} // the simulation rounds
	sim.markWeights(m.text)
	if unet {
		sim.markWeights(m.unet)
	}
	return runPipelineCase(t, m, "t2i_euler_a_6")
}

// TestHalfSimTextSpread keeps the text encoders' GPU tolerances derived:
// each must stay at least twice the simulated spread, and a run in the
// other half type must land above the F16 bounds. It also measures what F16
// text encoders do to a whole F16-UNet pipeline against the diffusers
// image: the pipeline bounds (gpuPipeF16LatentsTol, gpuPipeF16MinPSNR)
// were derived with the text encoders in float32.
func TestHalfSimTextSpread(t *testing.T) {
	within := func(what string, got, tol float64) { t.Helper(); checkSpreadWithin(t, what, got, tol) }
	embeds, pooled := simTinyText(t, tensor.F16)
	within("text F16 prompt_embeds", embeds, gpuTextF16EmbedsTol)
	within("text F16 pooled_prompt_embeds", pooled, gpuTextF16PooledTol)
	embeds, pooled = simTinyText(t, tensor.BF16)
	within("text BF16 prompt_embeds", embeds, gpuTextBF16EmbedsTol)
	within("text BF16 pooled_prompt_embeds", pooled, gpuTextBF16PooledTol)
	if embeds <= gpuTextF16EmbedsTol || pooled <= gpuTextF16PooledTol {
		t.Errorf("text BF16 spread %.3g, %.3g is within the F16 bounds: they would not notice BF16 arithmetic", embeds, pooled)
	}

	latents, db := simPipelineText(t, true)
	within("t2i_euler_a_6 F16 text and UNet latents", latents, gpuPipeF16LatentsTol)
	if db-6 < gpuPipeF16MinPSNR {
		t.Errorf("t2i_euler_a_6 F16 text and UNet: simulated PSNR %.1f dB leaves less than 6 dB over the GPU bound %.0f dB", db, gpuPipeF16MinPSNR)
	} else {
		t.Logf("t2i_euler_a_6 F16 text and UNet: simulated PSNR %.1f dB (GPU bound %.0f dB)", db, gpuPipeF16MinPSNR)
	}
	latents, db = simPipelineText(t, false)
	t.Logf("t2i_euler_a_6 F16 text, F32 UNet: simulated latents %.3g, PSNR %.1f dB (the text encoders' share)", latents, db)
}
