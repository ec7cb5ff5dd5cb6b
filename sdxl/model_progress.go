package sdxl

import (
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// LoadModelProgress is LoadModel calling progress(done, total) as tensors
// are bound (total: the checkpoint's tensor count), for a progress bar:
// binding reads, converts and uploads every weight, the long part of
// loading.
func LoadModelProgress(path string, b tensor.Backend, progress func(done, total int)) (*Model, error) {
	src, err := weights.Open(path)
	if err != nil {
		return nil, err
	}
	m, err := bindModel(&countingSource{Source: src, total: len(src.Names()), progress: progress, seen: map[string]bool{}}, b)
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
