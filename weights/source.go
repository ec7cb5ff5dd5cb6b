// Package weights reads checkpoints: memory-mapped safetensors files, single
// file (SGM layout) or diffusers folder, presented under one canonical naming
// (the SGM single-file names), and binds them to layer structs.
package weights

import "github.com/gosdxl/gosdxl/tensor"

// Entry is one tensor of a checkpoint, under its canonical name.
type Entry struct {
	DType tensor.DType
	Shape tensor.Shape
	// Bytes returns the little-endian data. For a tensor stored as is it
	// aliases the mapped file (no copy); a layout transformation (a fused
	// q/k/v, a transposed projection) builds it on demand.
	Bytes func() ([]byte, error)
}

// Source is a checkpoint seen through canonical names.
type Source interface {
	// Names lists every canonical tensor name, sorted.
	Names() []string
	// Lookup finds a tensor by canonical name.
	Lookup(name string) (Entry, bool)
	// Path names the file or folder, for error messages.
	Path() string
	// Close unmaps the files; bound CPU tensors that alias them die with it.
	Close() error
}
