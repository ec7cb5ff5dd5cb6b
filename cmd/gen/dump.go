package main

import (
	"github.com/gosdxl/gosdxl/internal/dump"
	"github.com/gosdxl/gosdxl/sdxl"
)

// startDump makes req show its intermediate tensors to a --dump collector
// and returns what writes them; it is called once the run has succeeded,
// before the images are saved. Without --dump it writes nothing.
func (o *options) startDump(req *sdxl.Request) (write func() error) {
	if o.dump == "" {
		return func() error { return nil }
	}
	d := dump.NewDir(o.dump)
	req.Observe = d.Observe
	return d.Write
}
