package sdxl

import (
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// LoadOptions are the choices fixed when a checkpoint is bound.
type LoadOptions struct {
	// Precision is the activation type of each network; the zero value
	// means DefaultPrecision. A half-precision VAE gets its weights
	// converted to that type at bind (see Precision).
	Precision Precision
	// Progress, when set, is called as tensors are bound: done of total
	// (the checkpoint's tensor count), for a progress bar. Binding reads,
	// converts and uploads every weight, the long part of loading.
	Progress func(done, total int)
}

// LoadModelWith is LoadModel with options.
func LoadModelWith(path string, b tensor.Backend, opt LoadOptions) (*Model, error) {
	src, err := weights.Open(path)
	if err != nil {
		return nil, err
	}
	var bound weights.Source = src
	if opt.Progress != nil {
		bound = &countingSource{Source: src, total: len(src.Names()), progress: opt.Progress, seen: map[string]bool{}}
	}
	p := opt.Precision
	if p == (Precision{}) {
		p = DefaultPrecision(b)
	}
	m, err := bindModel(bound, b, p)
	if err != nil {
		src.Close()
		return nil, err
	}
	return m, nil
}

// countingSource reports each distinct tensor looked up: the binder looks
// a tensor up right before reading and uploading it.
type countingSource struct {
	weights.Source
	total    int
	seen     map[string]bool
	progress func(done, total int)
}

func (c *countingSource) Lookup(name string) (weights.Entry, bool) {
	e, ok := c.Source.Lookup(name)
	if ok && !c.seen[name] && c.progress != nil {
		c.seen[name] = true
		c.progress(len(c.seen), c.total)
	}
	return e, ok
}
