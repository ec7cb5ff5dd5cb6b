package sdxl

import "os"

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

// conditioning records the text side under diffusers' names.
func (d *dumper) conditioning(c *conditioning) {
	emb := []int{c.batch, c.tokens, c.width}
	pooled := []int{c.batch, c.pooledWidth}
	d.add("conditioning", "prompt_embeds", Float32Tensor{Shape: emb, Data: c.pos})
	d.add("conditioning", "negative_prompt_embeds", Float32Tensor{Shape: emb, Data: c.neg})
	d.add("conditioning", "pooled_prompt_embeds", Float32Tensor{Shape: pooled, Data: c.posPooled})
	d.add("conditioning", "negative_pooled_prompt_embeds", Float32Tensor{Shape: pooled, Data: c.negPooled})
	ids := make([]float32, 0, 6*c.batch)
	for i := 0; i < c.batch; i++ {
		ids = append(ids, c.timeIDs[:]...)
	}
	d.add("conditioning", "add_time_ids", Float32Tensor{Shape: []int{c.batch, 6}, Data: ids})
}

func (d *dumper) flush() error {
	if d.dir == "" {
		return nil
	}
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return err
	}
	for file, tensors := range d.files {
		if err := WriteSafetensors(dumpPath(d.dir, file), tensors); err != nil {
			return err
		}
	}
	return nil
}
