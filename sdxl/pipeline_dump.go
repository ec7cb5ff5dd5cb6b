package sdxl

import (
	"os"
	"path/filepath"
)

// dumper collects intermediate tensors of one run for --dump and writes
// them, grouped by file, at the end (DIR/conditioning.safetensors,
// sampling, unet, vae, image). Without a directory it does nothing.
type dumper struct {
	dir   string
	files map[string]map[string]Float32Tensor
}

func newDumper(dir string) *dumper {
	return &dumper{dir: dir, files: map[string]map[string]Float32Tensor{}}
}

func (d *dumper) add(file, name string, t Float32Tensor) {
	if d.dir == "" {
		return
	}
	if d.files[file] == nil {
		d.files[file] = map[string]Float32Tensor{}
	}
	d.files[file][name] = t
}

// conditioning records the text side under diffusers' names, repeated for
// a batch of the given size.
func (d *dumper) conditioning(c *Conditioning, batch int) {
	if d.dir == "" {
		return
	}
	emb := []int{batch, c.Tokens, c.Width}
	pooled := []int{batch, c.PooledWidth}
	d.add("conditioning", "prompt_embeds", Float32Tensor{Shape: emb, Data: repeat(c.PromptEmbeds, batch)})
	d.add("conditioning", "negative_prompt_embeds", Float32Tensor{Shape: emb, Data: repeat(c.NegativeEmbeds, batch)})
	d.add("conditioning", "pooled_prompt_embeds", Float32Tensor{Shape: pooled, Data: repeat(c.PooledEmbeds, batch)})
	d.add("conditioning", "negative_pooled_prompt_embeds", Float32Tensor{Shape: pooled, Data: repeat(c.NegativePooled, batch)})
	d.add("conditioning", "add_time_ids", Float32Tensor{Shape: []int{batch, 6}, Data: repeat(c.TimeIDs[:], batch)})
}

// unetCall records the first UNet call (batch [negative…, positive…]) under
// the names of diffusers' UNet arguments.
func (d *dumper) unetCall(in, out []float32, t float64, shape latentShape, c *Conditioning) {
	if d.dir == "" {
		return
	}
	double := shape
	double.b *= 2
	b := shape.b
	d.add("unet", "sample", Float32Tensor{Shape: double.dims(), Data: in})
	d.add("unet", "timestep", Float32Tensor{Shape: []int{1}, Data: []float32{float32(t)}})
	d.add("unet", "out", Float32Tensor{Shape: double.dims(), Data: out})
	d.add("unet", "encoder_hidden_states", Float32Tensor{Shape: []int{2 * b, c.Tokens, c.Width},
		Data: concat(repeat(c.NegativeEmbeds, b), repeat(c.PromptEmbeds, b))})
	d.add("unet", "text_embeds", Float32Tensor{Shape: []int{2 * b, c.PooledWidth},
		Data: concat(repeat(c.NegativePooled, b), repeat(c.PooledEmbeds, b))})
	d.add("unet", "time_ids", Float32Tensor{Shape: []int{2 * b, 6}, Data: repeat(c.TimeIDs[:], 2*b)})
}

func (d *dumper) flush() error {
	if d.dir == "" {
		return nil
	}
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return err
	}
	for file, tensors := range d.files {
		if err := WriteSafetensors(filepath.Join(d.dir, file+".safetensors"), tensors); err != nil {
			return err
		}
	}
	return nil
}

func repeat(v []float32, n int) []float32 {
	out := make([]float32, 0, n*len(v))
	for i := 0; i < n; i++ {
		out = append(out, v...)
	}
	return out
}
