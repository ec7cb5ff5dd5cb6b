package lora

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/gosdxl/gosdxl/weights"
)

// Embedding is an SDXL textual-inversion embedding: writing Name in a
// prompt puts its vectors in place of the name's tokens, CLIPL's in the
// first text encoder's input and CLIPG's in the second's.
type Embedding struct {
	Name, Path   string
	CLIPL, CLIPG [][]float32 // n vectors each, of the encoders' widths
}

// OpenEmbedding reads an SDXL embedding file: the tensors clip_l [n, 768]
// and clip_g [n, 1280] (as Civitai ships SDXL embeddings). An SD 1.x
// embedding (emb_params / string_to_param) is refused by name.
func OpenEmbedding(path string) (*Embedding, error) {
	c, err := weights.OpenCheckpoint(path)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if c.Layout() != weights.LayoutSGM {
		return nil, fmt.Errorf("%s: a folder: an embedding is one .safetensors file", path)
	}
	f := &File{Path: path, ckpt: c}
	e := &Embedding{Name: strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), Path: path}
	for _, n := range c.Names() {
		if n == "emb_params" || strings.HasPrefix(n, "string_to_param") {
			return nil, fmt.Errorf("%s: an SD 1.x/2.x embedding (tensor %q): SDXL embeddings have clip_l and clip_g", path, n)
		}
	}
	for _, part := range []struct {
		name string
		dst  *[][]float32
	}{{"clip_l", &e.CLIPL}, {"clip_g", &e.CLIPG}} {
		v, shape, err := f.read(part.name)
		if err != nil {
			return nil, fmt.Errorf("%s: not an SDXL embedding: %v", path, err)
		}
		if len(shape) != 2 || shape[0] < 1 {
			return nil, fmt.Errorf("%s: tensor %s has shape %v, expected [vectors, width]", path, part.name, shape)
		}
		for i, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, fmt.Errorf("%s: tensor %s holds %v at element %d", path, part.name, x, i)
			}
		}
		for r := 0; r < shape[0]; r++ {
			*part.dst = append(*part.dst, v[r*shape[1]:(r+1)*shape[1]])
		}
	}
	if len(e.CLIPL) != len(e.CLIPG) {
		return nil, fmt.Errorf("%s: clip_l has %d vectors and clip_g %d: they must match", path, len(e.CLIPL), len(e.CLIPG))
	}
	if err := CheckName(e.Name); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return e, nil
}
