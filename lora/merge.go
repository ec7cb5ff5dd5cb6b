package lora

import (
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// MaxStrength bounds a strength's magnitude, as A1111's UI slider does;
// anything larger is a typo, not a style.
const MaxStrength = 10

// gcEvery is how many bytes of float32 temporaries a merge leaves before
// it asks for a garbage collection.
const gcEvery = 256 << 20

// Use is one adapter to merge with its strengths: UNet for the UNet's
// modules, Text for both text encoders' (A1111's <lora:name:te:unet>).
type Use struct {
	File *File
	// Name is how the user referred to the adapter (the prompt tag's name
	// or the --lora file's base name), for the PNG parameters.
	Name       string
	UNet, Text float64
}

// Weights is a model's bound weights as a Merger sees them.
type Weights struct {
	Backend tensor.Backend
	// Source is the checkpoint the weights were bound from: Unmerge reads
	// the original bytes back from it.
	Source weights.Source
	// Tensors is every tensor the model declares, with its checkpoint
	// shape (sdxl.ExpectedTensors: a dry-run bind of the model's layers).
	Tensors weights.Expected
	// Slots holds every bound weight by canonical name (weights.Binder.Slots).
	Slots map[string]**tensor.Tensor
}

// Merger merges adapters into one model's weights and takes them out
// again. It is not safe for concurrent use, nor with a generation running.
type Merger struct {
	w      Weights
	keys   map[string]Target
	torch  map[string]tensor.Shape // every weight's checkpoint shape ([O,I,KH,KW] for convs)
	active []Use
	merged []string // canonical names whose slots hold merged tensors
	// made holds the tensors this merger created that a slot holds now;
	// released, the tensors it found in slots (the loader's) and freed.
	// The model's owner frees the loader's tensors minus released, plus
	// made (see Owned).
	made     map[*tensor.Tensor]bool
	released map[*tensor.Tensor]bool
}

// NewMerger prepares to merge into w.
func NewMerger(w Weights) *Merger {
	torch := make(map[string]tensor.Shape, len(w.Tensors))
	for name, t := range w.Tensors {
		torch[name] = t.Shape
	}
	return &Merger{w: w, keys: KeyTable(w.Tensors), torch: torch,
		made: map[*tensor.Tensor]bool{}, released: map[*tensor.Tensor]bool{}}
}

// swap puts t into slot and frees what the slot held, remembering whose
// tensor that was.
func (mg *Merger) swap(slot **tensor.Tensor, t *tensor.Tensor) {
	old := *slot
	*slot = t
	mg.made[t] = true
	if mg.made[old] {
		delete(mg.made, old)
	} else {
		mg.released[old] = true
	}
	mg.w.Backend.Free(old)
}

// Owned tells the owner of the loaded weights what to free when the model
// goes: the tensors the merger made and still holds in slots, and whether a
// tensor the loader bound was already freed by the merger.
func (mg *Merger) Owned() (made []*tensor.Tensor, released func(*tensor.Tensor) bool) {
	for t := range mg.made {
		made = append(made, t)
	}
	return made, func(t *tensor.Tensor) bool { return mg.released[t] }
}

// Active lists the adapters merged now.
func (mg *Merger) Active() []Use { return append([]Use(nil), mg.active...) }

// contribution is one module's share of one target weight.
type contribution struct {
	file          *File
	mod           *Module
	strength      float64 // the Use's strength times the module's scale
	block, blocks int
}

// plan is every change a set of adapters makes, by canonical name.
type plan map[string][]contribution

// Apply replaces the merged adapters with uses (none: the checkpoint as
// loaded). Everything is checked first (strengths, names, shapes); on any
// problem the model is left as it was and the error lists every problem.
func (mg *Merger) Apply(uses []Use) error {
	p, err := mg.plan(uses)
	if err != nil {
		return err
	}
	if err := mg.Unmerge(); err != nil {
		return err
	}
	names := make([]string, 0, len(p))
	for n := range p {
		names = append(names, n)
	}
	sort.Strings(names)
	var garbage int
	for _, n := range names {
		// Each tensor leaves float32 copies of itself behind; collecting
		// them every gcEvery bytes keeps a merge's temporary memory to a
		// few layers even while the heap grows by the merged weights.
		if garbage > gcEvery {
			runtime.GC()
			garbage = 0
		}
		garbage += 12 * mg.torch[n].NumElements() // weight, ΔW and product in float32
		if err := mg.mergeOne(n, p[n]); err != nil {
			uerr := mg.Unmerge()
			return fmt.Errorf("merging %s: %w (model restored: %v)", n, err, uerr == nil)
		}
	}
	if err := mg.w.Backend.Sync(); err != nil {
		return fmt.Errorf("merging adapters on %s: %w", mg.w.Backend.Name(), err)
	}
	mg.active = append([]Use(nil), uses...)
	return nil
}

// plan maps every module of every use onto its target and checks shapes.
func (mg *Merger) plan(uses []Use) (plan, error) {
	p := plan{}
	var problems []string
	for _, u := range uses {
		for _, s := range []float64{u.UNet, u.Text} {
			if math.IsNaN(s) || math.Abs(s) > MaxStrength {
				problems = append(problems, fmt.Sprintf("%s: strength %v outside [-%d, %d]", u.Name, s, MaxStrength, MaxStrength))
			}
		}
		var unmatched []string
		for _, m := range u.File.Modules {
			t, ok := mg.keys[m.Key]
			if !ok {
				unmatched = append(unmatched, m.Key)
				continue
			}
			strength := u.Text
			if m.Part == PartUNet {
				strength = u.UNet
			}
			if err := mg.check(u.File, m, t); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", u.Name, err))
				continue
			}
			if strength == 0 {
				continue
			}
			scale, err := u.File.Scale(m)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", u.Name, err))
				continue
			}
			p[t.Canonical] = append(p[t.Canonical], contribution{file: u.File, mod: m,
				strength: strength * scale, block: t.Block, blocks: t.Blocks})
		}
		if len(unmatched) > 0 {
			problems = append(problems, fmt.Sprintf("%s: %d modules match no layer of this SDXL checkpoint (a LoRA for another base model?): %s",
				u.Name, len(unmatched), strings.Join(unmatched, ", ")))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return p, nil
}

// check compares a module's ΔW size with its target weight and makes sure
// the weight is bound in a layout the merge understands.
func (mg *Merger) check(f *File, m *Module, t Target) error {
	_, ok := mg.w.Source.Lookup(t.Canonical)
	shape, known := mg.torch[t.Canonical]
	slot := mg.w.Slots[t.Canonical]
	if !ok || !known || slot == nil {
		return fmt.Errorf("module %q: the checkpoint has no bound %s", m.Key, t.Canonical)
	}
	rows, cols, err := f.outShape(m)
	if err != nil {
		return err
	}
	wantRows, wantCols := shape[0]/t.Blocks, shape.NumElements()/shape[0]
	if rows != wantRows || cols != wantCols {
		return fmt.Errorf("module %q: ΔW %d×%d does not fit %s %v (%d×%d): a LoRA for another model?",
			m.Key, rows, cols, t.Canonical, shape, wantRows, wantCols)
	}
	if b := (*slot).Shape(); !b.Equal(shape) && !b.Equal(channelsLastShape(shape)) {
		return fmt.Errorf("module %q: %s is bound as %v, expected %v or %v", m.Key, t.Canonical, b, shape, channelsLastShape(shape))
	}
	return nil
}

// channelsLastShape is a conv weight's shape as the backends hold it:
// [O,I,KH,KW] repacked to [O,KH,KW,I] (see nn.Conv2D).
func channelsLastShape(s tensor.Shape) tensor.Shape {
	if len(s) == 4 {
		return tensor.Shape{s[0], s[2], s[3], s[1]}
	}
	return s
}

// isChannelsLast tells whether a weight of checkpoint shape torch, bound
// with shape bound, has its elements permuted to channels-last (a 1×1
// kernel has the same element order either way).
func isChannelsLast(torch, bound tensor.Shape) bool {
	return len(torch) == 4 && torch[2]*torch[3] > 1 && !bound.Equal(torch)
}

// mergeOne widens one weight to float32, adds every contribution in float32
// and rounds the sum once to the weight's dtype on its backend.
func (mg *Merger) mergeOne(name string, cs []contribution) error {
	b := mg.w.Backend
	shape := mg.torch[name]
	slot := mg.w.Slots[name]
	cur := *slot
	w := b.ToFloat32(cur)
	rows := shape[0] / cs[0].blocks
	cols := shape.NumElements() / shape[0]
	permuted := isChannelsLast(shape, cur.Shape())
	for _, c := range cs {
		d, err := c.file.Delta(c.mod, rows, cols)
		if err != nil {
			return err
		}
		addDelta(w, d, float32(c.strength), c.block*rows, shape, permuted)
	}
	// The original is not kept: Unmerge reads it back from the checkpoint.
	mg.swap(slot, tensor.FromRawWeight(b, cur.DType(), cur.Shape(), tensor.EncodeFloat32(cur.DType(), w)))
	mg.merged = append(mg.merged, name)
	return b.Sync()
}

// addDelta adds s·d to the bound weight w, d's row r landing on the
// weight's row row0+r. A conv's d is in the checkpoint's (in, kh, kw)
// column order; with permuted set w is channels-last (kh, kw, in).
func addDelta(w []float32, d matrix, s float32, row0 int, canonical tensor.Shape, permuted bool) {
	if !permuted {
		base := w[row0*d.cols:]
		for i, x := range d.v {
			base[i] += s * x
		}
		return
	}
	in, kh, kw := canonical[1], canonical[2], canonical[3]
	for r := 0; r < d.rows; r++ {
		src := d.v[r*d.cols : (r+1)*d.cols]
		dst := w[(row0+r)*d.cols : (row0+r+1)*d.cols]
		for i := 0; i < in; i++ {
			for y := 0; y < kh; y++ {
				for x := 0; x < kw; x++ {
					dst[(y*kw+x)*in+i] += s * src[(i*kh+y)*kw+x]
				}
			}
		}
	}
}

// Unmerge puts the checkpoint's own weights back wherever an adapter was
// merged, bit for bit: the bytes are read again from the checkpoint (a
// conv weight repacked channels-last by a pure byte permutation).
func (mg *Merger) Unmerge() error {
	b := mg.w.Backend
	for len(mg.merged) > 0 {
		name := mg.merged[len(mg.merged)-1]
		e, _ := mg.w.Source.Lookup(name)
		raw, err := e.Bytes()
		if err != nil {
			return fmt.Errorf("restoring %s: %w", name, err)
		}
		slot := mg.w.Slots[name]
		cur := *slot
		// The source may give the checkpoint's layout or already the
		// backend's: permute only when they differ.
		if isChannelsLast(e.Shape, cur.Shape()) {
			if _, raw, err = weights.ConvToChannelsLast(e.Shape, raw, e.DType.Size()); err != nil {
				return fmt.Errorf("restoring %s: %w", name, err)
			}
		}
		// A weight converted at bind (a half-precision VAE) is converted
		// again the same way: the same bits come back.
		mg.swap(slot, tensor.FromRawWeight(b, cur.DType(), cur.Shape(), tensor.ConvertBytes(e.DType, cur.DType(), raw)))
		mg.merged = mg.merged[:len(mg.merged)-1]
	}
	mg.active = nil
	return b.Sync()
}
