package weights

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/gosdxl/gosdxl/tensor"
)

// Preparer is implemented by layers that adjust their bound weights once
// (nn.Linear views a 1×1 convolution weight as [O,I]). Rearranging bytes is
// the Binder's job (the layout tag options), before the upload.
type Preparer interface {
	PrepareWeights(b tensor.Backend)
}

// Binder fills layer structs from a Source through struct tags:
//
//	Weight *tensor.Tensor `weight:"weight"`          // required tensor
//	Bias   *tensor.Tensor `weight:"bias,optional"`   // nil when absent
//	Conv   *tensor.Tensor `weight:"weight,channels_last"` // [O,I,KH,KW] stored, [O,KH,KW,I] bound
//	Proj   *tensor.Tensor `weight:"proj,transpose"`  // [R,C] stored, [C,R] bound
//	Norm   nn.GroupNorm   `weight:"in_layers.0"`     // nested layer: prefix "in_layers.0."
//	Blocks []Block        `weight:"transformer_blocks"` // element i: "transformer_blocks.i."
//
// A tensor field holding a tensor.Spec declares the expected shape. Binding
// goes on past problems so that one error can list every missing tensor and
// every shape mismatch; Unused then lists what nothing asked for.
//
// The layouts (channels_last, transpose) are applied to the bytes on the
// host before the upload, so a weight never travels to the device and back
// to be rearranged. A Spec declares the shape as stored in the file.
type Binder struct {
	backend    tensor.Backend
	src        Source
	bound      []*tensor.Tensor
	used       map[string]bool
	missing    []string
	mismatched []string
	unreadable []string
	slots      map[string]**tensor.Tensor
	// castTo, when set (BindAs), is the dtype every float tensor is
	// converted to on the host before the upload.
	castTo tensor.DType
	// listing is set on a dry run (NewDryRun): what Bind would load.
	listing Expected
}

// Expected lists the tensors a model declares, by canonical name: the
// result of a dry-run Bind over layers filled with tensor.Spec placeholders.
// It is the one description of what a checkpoint must hold.
type Expected map[string]ExpectedTensor

// ExpectedTensor is one declared tensor: its shape as the checkpoint stores
// it (before any layout option rearranges it; nil when the layer declared
// no shape) and whether the layer works without it.
type ExpectedTensor struct {
	Shape    tensor.Shape
	Optional bool
}

// NewDryRun returns a Binder that reads no file: Bind only walks the layer
// structs, recording every tensor they declare (see Listing), and leaves
// the placeholders in place.
func NewDryRun() *Binder {
	return &Binder{used: map[string]bool{}, slots: map[string]**tensor.Tensor{}, listing: Expected{}}
}

// Listing is what a dry run recorded (nil for a Binder reading a file).
func (bd *Binder) Listing() Expected { return bd.listing }

// NewBinder prepares to bind tensors of src, uploaded to backend b.
func NewBinder(b tensor.Backend, src Source) *Binder {
	return &Binder{backend: b, src: src, used: map[string]bool{}, slots: map[string]**tensor.Tensor{}}
}

// Bind fills the struct that dst points to, with every tag name prefixed by
// prefix (for example "model.diffusion_model.").
func (bd *Binder) Bind(prefix string, dst any) {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("weights: Bind needs a pointer to a struct, got %T", dst))
	}
	bd.bindStruct(prefix, v.Elem())
}

// BindAs is Bind with every tensor converted to dt (0: none) on the host before the
// upload (tensor.ConvertBytes), for a network that runs in another type than
// the checkpoint stores: the GPU runs the VAE in BF16 on its tensor-core
// kernels, which want weights of the activations' type.
func (bd *Binder) BindAs(prefix string, dst any, dt tensor.DType) {
	bd.castTo = dt
	defer func() { bd.castTo = 0 }()
	bd.Bind(prefix, dst)
}

// Err is nil when every required tensor was found with the expected shape;
// otherwise one error lists them all.
func (bd *Binder) Err() error {
	if len(bd.missing)+len(bd.mismatched)+len(bd.unreadable) == 0 {
		return nil
	}
	var parts []string
	if len(bd.missing) > 0 {
		parts = append(parts, fmt.Sprintf("%d missing tensors: %s", len(bd.missing), strings.Join(bd.missing, ", ")))
	}
	if len(bd.mismatched) > 0 {
		parts = append(parts, fmt.Sprintf("%d tensors with the wrong shape or type: %s", len(bd.mismatched), strings.Join(bd.mismatched, "; ")))
	}
	if len(bd.unreadable) > 0 {
		parts = append(parts, strings.Join(bd.unreadable, "; "))
	}
	return fmt.Errorf("%s: %s", bd.src.Path(), strings.Join(parts, "; "))
}

// Tensors lists every tensor the Binder uploaded, in binding order: what
// the owner of the bound layers frees when it is done with them.
func (bd *Binder) Tensors() []*tensor.Tensor { return append([]*tensor.Tensor{}, bd.bound...) }

// Slots maps every bound tensor's canonical name to the layer field that
// holds it. Reading a slot after binding gives the tensor as the layer uses
// it (after PrepareWeights: a conv weight repacked to [O,KH,KW,I]);
// replacing it swaps the weight the layer computes with (adapters merged
// into the model, see package lora).
func (bd *Binder) Slots() map[string]**tensor.Tensor { return bd.slots }

// Missing lists required tensors the source lacks.
func (bd *Binder) Missing() []string { return append([]string{}, bd.missing...) }

// Mismatched lists tensors found with another shape or an unusable dtype.
func (bd *Binder) Mismatched() []string { return append([]string{}, bd.mismatched...) }

// Unused lists the source's tensors that no layer asked for, leaving out
// training-only keys every loader ignores (see Ignorable). A dry run has
// no source: nothing is unused.
func (bd *Binder) Unused() []string {
	if bd.src == nil {
		return nil
	}
	var out []string
	for _, n := range bd.src.Names() {
		if !bd.used[n] && !Ignorable(n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

var tensorType = reflect.TypeOf((*tensor.Tensor)(nil))

func (bd *Binder) bindStruct(prefix string, v reflect.Value) {
	before := len(bd.missing) + len(bd.mismatched) + len(bd.unreadable)
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag, ok := t.Field(i).Tag.Lookup("weight")
		if !ok || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		bd.bindField(prefix+name, parseTagOptions(name, opts), v.Field(i))
	}
	// Only a fully bound layer is prepared: its tensors are all real.
	if bd.listing == nil && len(bd.missing)+len(bd.mismatched)+len(bd.unreadable) == before && v.CanAddr() {
		if p, ok := v.Addr().Interface().(Preparer); ok {
			p.PrepareWeights(bd.backend)
		}
	}
}

// tagOptions are the options after a weight tag's name.
type tagOptions struct {
	optional bool
	layout   layout
}

func parseTagOptions(name, opts string) tagOptions {
	var o tagOptions
	for opts != "" {
		var opt string
		opt, opts, _ = strings.Cut(opts, ",")
		switch opt {
		case "optional":
			o.optional = true
		case "channels_last":
			o.layout = channelsLast
		case "transpose":
			o.layout = transposed
		default:
			panic(fmt.Sprintf("weights: tag of %s has unknown option %q", name, opt))
		}
	}
	return o
}

func (bd *Binder) bindField(name string, opts tagOptions, f reflect.Value) {
	switch {
	case f.Type() == tensorType:
		var want *tensor.Tensor
		if !f.IsNil() {
			want = f.Interface().(*tensor.Tensor)
		}
		got := bd.load(name, want, opts)
		f.Set(reflect.ValueOf(got))
		if got != nil && f.CanAddr() {
			bd.slots[name] = f.Addr().Interface().(**tensor.Tensor)
		}
	case f.Kind() == reflect.Struct:
		bd.bindStruct(name+".", f)
	case f.Kind() == reflect.Pointer && f.Type().Elem().Kind() == reflect.Struct:
		if !f.IsNil() {
			bd.bindStruct(name+".", f.Elem())
		}
	case f.Kind() == reflect.Slice:
		for i := 0; i < f.Len(); i++ {
			bd.bindField(name+"."+strconv.Itoa(i), opts, f.Index(i))
		}
	default:
		panic(fmt.Sprintf("weights: field %s has unsupported type %s", name, f.Type()))
	}
}

// load fetches one tensor, checks it against the expected spec and uploads it.
func (bd *Binder) load(name string, want *tensor.Tensor, opts tagOptions) *tensor.Tensor {
	if bd.listing != nil {
		var shape tensor.Shape
		if want != nil {
			shape = want.Shape().Clone()
		}
		bd.listing[name] = ExpectedTensor{Shape: shape, Optional: opts.optional}
		return want
	}
	e, ok := bd.src.Lookup(name)
	if !ok {
		if !opts.optional {
			bd.missing = append(bd.missing, name)
		}
		return nil
	}
	bd.used[name] = true
	if !e.DType.IsFloat() {
		bd.mismatched = append(bd.mismatched, fmt.Sprintf("%s: dtype %s, expected a float type", name, e.DType))
		return nil
	}
	if want != nil && !want.Shape().Equal(e.Shape) {
		bd.mismatched = append(bd.mismatched, fmt.Sprintf("%s: shape %v in the file, expected %v", name, e.Shape, want.Shape()))
		return nil
	}
	var raw []byte // stays nil for a backend that holds no data: shapes only
	if !tensor.IsShapeOnly(bd.backend) {
		var err error
		if raw, err = e.Bytes(); err != nil {
			bd.unreadable = append(bd.unreadable, fmt.Sprintf("%s: %v", name, err))
			return nil
		}
	}
	shape, raw, err := opts.layout.apply(e.Shape, raw, e.DType.Size())
	if err != nil {
		bd.mismatched = append(bd.mismatched, fmt.Sprintf("%s: %v", name, err))
		return nil
	}
	dt := e.DType
	if bd.castTo != 0 {
		if raw != nil {
			raw = tensor.ConvertBytes(dt, bd.castTo, raw)
		}
		dt = bd.castTo
	}
	t := tensor.FromRawWeight(bd.backend, dt, shape, raw)
	bd.bound = append(bd.bound, t)
	return t
}

// Ignorable reports training-only or bookkeeping tensors that real SDXL
// files carry and no inference code needs. A file's position_ids are never
// trusted (merged checkpoints carry broken ones): positions are always 0..76.
func Ignorable(name string) bool {
	switch {
	case strings.HasSuffix(name, "embeddings.position_ids"),
		strings.HasSuffix(name, ".logit_scale"),
		name == "denoiser.sigmas",
		strings.HasPrefix(name, "model_ema."),
		name == "alphas_cumprod", name == "alphas_cumprod_prev", name == "betas",
		name == "log_one_minus_alphas_cumprod", name == "sqrt_alphas_cumprod",
		name == "sqrt_one_minus_alphas_cumprod", name == "sqrt_recip_alphas_cumprod",
		name == "sqrt_recipm1_alphas_cumprod", name == "posterior_variance",
		name == "posterior_log_variance_clipped", name == "posterior_mean_coef1",
		name == "posterior_mean_coef2", name == "lvlb_weights":
		return true
	}
	return false
}
