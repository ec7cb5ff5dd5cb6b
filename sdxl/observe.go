package sdxl

// Observer receives a run's intermediate tensors as they are made: host
// float32 in diffusers' layout (NCHW), grouped by stage ("conditioning",
// "sampling", "unet", "hires", "vae", "image") under diffusers' names, so
// that they compare with a diffusers run name for name (gen --dump writes
// them with package dump). The observer may keep data but must not change
// it. Observing costs nothing when Request.Observe is nil.
type Observer func(stage, name string, shape []int, data []float32)

func (r *Request) observe(stage, name string, shape []int, data []float32) {
	if r.Observe != nil {
		r.Observe(stage, name, shape, data)
	}
}

// observeConditioning shows the text side under diffusers' names, repeated
// for a batch of the given size.
func (r *Request) observeConditioning(c *Conditioning, batch int) {
	if r.Observe == nil {
		return
	}
	emb := []int{batch, c.Tokens, c.Width}
	pooled := []int{batch, c.PooledWidth}
	r.Observe("conditioning", "prompt_embeds", emb, repeat(c.PromptEmbeds, batch))
	r.Observe("conditioning", "negative_prompt_embeds", emb, repeat(c.NegativeEmbeds, batch))
	r.Observe("conditioning", "pooled_prompt_embeds", pooled, repeat(c.PooledEmbeds, batch))
	r.Observe("conditioning", "negative_pooled_prompt_embeds", pooled, repeat(c.NegativePooled, batch))
	r.Observe("conditioning", "add_time_ids", []int{batch, 6}, repeat(c.TimeIDs[:], batch))
}

// observeUNetCall shows one UNet call (batch [negative…, positive…]) under
// the names of diffusers' UNet arguments.
func (r *Request) observeUNetCall(in, out []float32, t float64, shape latentShape, c *Conditioning) {
	if r.Observe == nil {
		return
	}
	double := shape
	double.b *= 2
	b := shape.b
	r.Observe("unet", "sample", double.dims(), in)
	r.Observe("unet", "timestep", []int{1}, []float32{float32(t)})
	r.Observe("unet", "out", double.dims(), out)
	r.Observe("unet", "encoder_hidden_states", []int{2 * b, c.Tokens, c.Width},
		concat(repeat(c.NegativeEmbeds, b), repeat(c.PromptEmbeds, b)))
	r.Observe("unet", "text_embeds", []int{2 * b, c.PooledWidth},
		concat(repeat(c.NegativePooled, b), repeat(c.PooledEmbeds, b)))
	r.Observe("unet", "time_ids", []int{2 * b, 6}, repeat(c.TimeIDs[:], 2*b))
}

func repeat(v []float32, n int) []float32 {
	out := make([]float32, 0, n*len(v))
	for i := 0; i < n; i++ {
		out = append(out, v...)
	}
	return out
}
