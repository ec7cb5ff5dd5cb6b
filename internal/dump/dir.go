package dump

import (
	"os"
	"path/filepath"
)

// Dir collects the intermediate tensors of one run for gen --dump and
// writes them, one safetensors file per stage, when the run is over
// (DIR/conditioning.safetensors, sampling, unet, hires, vae, image). Its
// Observe method is an sdxl.Observer.
type Dir struct {
	dir   string
	files map[string]map[string]Tensor
}

// NewDir returns a collector writing into dir (created by Write).
func NewDir(dir string) *Dir {
	return &Dir{dir: dir, files: map[string]map[string]Tensor{}}
}

// Observe keeps one tensor for the stage's file; the data is written as it
// is at Write, not copied.
func (d *Dir) Observe(stage, name string, shape []int, data []float32) {
	if d.files[stage] == nil {
		d.files[stage] = map[string]Tensor{}
	}
	d.files[stage][name] = Tensor{Shape: shape, Data: data}
}

// Write creates the folder and writes every stage's file.
func (d *Dir) Write() error {
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return err
	}
	for stage, tensors := range d.files {
		if err := WriteSafetensors(filepath.Join(d.dir, stage+".safetensors"), tensors); err != nil {
			return err
		}
	}
	return nil
}
