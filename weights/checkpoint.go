package weights

import (
	"errors"
	"fmt"
	"os"
	"sort"
)

// Layout names how a checkpoint is stored.
type Layout string

const (
	// LayoutSGM is one .safetensors file with Stability's (SGM) names, the
	// canonical naming; how Animagine XL and most SDXL checkpoints ship.
	LayoutSGM Layout = "sgm"
	// LayoutDiffusers is a diffusers folder (unet/, text_encoder/,
	// text_encoder_2/, vae/), renamed to SGM names by the diffusers map.
	LayoutDiffusers Layout = "diffusers"
)

// Stats counts what the checkpoint's files store, before any renaming: a
// diffusers folder keeps q/k/v apart, so it has more tensors than the same
// model in one file, but the same number of bytes.
type Stats struct {
	DTypes  map[string]int // tensors per safetensors dtype ("F16": 2513)
	Tensors int
	Bytes   int64 // tensor data, headers excluded
}

// Checkpoint is an opened checkpoint under canonical names. It implements
// Source; Entry.Bytes of a tensor stored as is aliases the mapped file. A
// diffusers folder's tensors that the name table does not know keep their
// stored name as "component/name" (e.g. "unet/foo.weight"), so that they
// are reported as unused instead of vanishing.
type Checkpoint struct {
	path    string
	layout  Layout
	files   []*mappedFile
	entries map[string]Entry
	names   []string
	stats   Stats
}

// Open opens a single .safetensors file or a diffusers folder and presents
// it under canonical SGM names.
func Open(path string) (Source, error) {
	c, err := OpenCheckpoint(path)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// OpenCheckpoint is Open with access to the layout and file statistics.
func OpenCheckpoint(path string) (*Checkpoint, error) {
	info, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: no such file or folder", path)
	}
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return openDiffusers(path)
	}
	return openSingleFile(path)
}

func openSingleFile(path string) (*Checkpoint, error) {
	mf, err := openMapped(path)
	if err != nil {
		return nil, err
	}
	c := &Checkpoint{path: path, layout: LayoutSGM, files: []*mappedFile{mf}, entries: map[string]Entry{}, stats: mf.stats}
	for name, t := range mf.tensors {
		c.entries[name] = storedEntry(t)
	}
	c.sortNames()
	return c, nil
}

// storedEntry presents a tensor exactly as stored, aliasing the mapping.
func storedEntry(t storedTensor) Entry {
	return Entry{DType: t.dtype, Shape: t.shape, Bytes: func() ([]byte, error) { return t.data, nil }}
}

func (c *Checkpoint) sortNames() {
	c.names = make([]string, 0, len(c.entries))
	for n := range c.entries {
		c.names = append(c.names, n)
	}
	sort.Strings(c.names)
}

// Metadata is the string map of a single file's safetensors header
// (__metadata__: training settings of LoRAs and embeddings); nil for a
// diffusers folder or a file without one.
func (c *Checkpoint) Metadata() map[string]string {
	if c.layout != LayoutSGM || len(c.files) != 1 {
		return nil
	}
	return c.files[0].meta
}

// Layout tells whether the checkpoint is a single file or a diffusers folder.
func (c *Checkpoint) Layout() Layout { return c.layout }

// Stats counts the stored tensors by dtype, in all and in bytes.
func (c *Checkpoint) Stats() Stats { return c.stats }

// Names lists every canonical tensor name, sorted.
func (c *Checkpoint) Names() []string { return append([]string(nil), c.names...) }

// Lookup finds a tensor by canonical name.
func (c *Checkpoint) Lookup(name string) (Entry, bool) {
	e, ok := c.entries[name]
	return e, ok
}

// Path names the file or folder.
func (c *Checkpoint) Path() string { return c.path }

// Close unmaps every file; tensors that alias them must not be used after.
func (c *Checkpoint) Close() error {
	var first error
	for _, f := range c.files {
		if err := f.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
