package lora

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// Kind is a module's adapter type.
type Kind string

const (
	KindLoRA Kind = "LoRA" // up·down, linear or conv (LoCon)
	KindLoHa Kind = "LoHa" // (w1a·w1b) ⊙ (w2a·w2b)
	KindLoKr Kind = "LoKr" // w1 ⊗ w2, each full or a product of two factors
)

// Part is the network a module belongs to.
type Part string

const (
	PartUNet Part = "unet"
	PartTE1  Part = "te1" // CLIP ViT-L
	PartTE2  Part = "te2" // OpenCLIP bigG
)

// File is an opened adapter file. Its tensors stay in the mapped file until
// a merge reads them.
type File struct {
	Path    string
	Name    string // the file name without extension: what <lora:NAME:…> refers to
	Naming  string // "kohya" or "peft"
	Modules []*Module
	// Unknown lists tensors that belong to no module this package applies.
	Unknown  []string
	Metadata map[string]string
	ckpt     *weights.Checkpoint
}

// Module is one adapted layer: its key as stored (without the tensor
// suffix) and its tensors by role ("down", "up", "alpha", "w1a", …).
type Module struct {
	Key     string
	Part    Part
	Kind    Kind
	Tensors map[string]string // role → tensor name in the file
}

// roles maps every tensor suffix this package reads to its role. The
// suffix follows the module key after a dot.
var roles = map[string]string{
	"lora_down.weight": "down", "lora_up.weight": "up",
	"lora_A.weight": "down", "lora_B.weight": "up",
	"alpha":     "alpha",
	"hada_w1_a": "w1a", "hada_w1_b": "w1b", "hada_w2_a": "w2a", "hada_w2_b": "w2b",
	"lokr_w1": "w1", "lokr_w1_a": "w1a", "lokr_w1_b": "w1b",
	"lokr_w2": "w2", "lokr_w2_a": "w2a", "lokr_w2_b": "w2b",
}

// refused are suffixes of variants this package recognises but does not
// compute; a file that has them is refused by name rather than applied in
// part.
var refused = map[string]string{
	"dora_scale":            "DoRA (weight-decomposed LoRA, .dora_scale)",
	"lora_mid.weight":       "LoCon with a Tucker-decomposed conv (.lora_mid)",
	"hada_t1":               "LoHa with Tucker-decomposed convs (.hada_t1)",
	"hada_t2":               "LoHa with Tucker-decomposed convs (.hada_t2)",
	"lokr_t2":               "LoKr with a Tucker-decomposed conv (.lokr_t2)",
	"diff":                  "a full-weight difference (.diff, LyCORIS 'full')",
	"w_norm":                "a norm-layer adapter (.w_norm)",
	"oft_blocks":            "OFT (.oft_blocks)",
	"oft_diag":              "OFT (.oft_diag)",
	"lora_magnitude_vector": "DoRA (.lora_magnitude_vector)",
}

// Open reads an adapter file's header, sorts its tensors into modules and
// checks every value for NaN and Inf. A file that is not an SDXL adapter
// (a checkpoint, an SD 1.x LoRA, an unsupported variant) is refused by name.
func Open(path string) (*File, error) {
	c, err := weights.OpenCheckpoint(path)
	if err != nil {
		return nil, err
	}
	if c.Layout() != weights.LayoutSGM {
		c.Close()
		return nil, fmt.Errorf("%s: a folder: a LoRA is one .safetensors file", path)
	}
	f := &File{Path: path, Name: strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)),
		Metadata: c.Metadata(), ckpt: c}
	if err := checkBase(f.Metadata); err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if err := f.index(); err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if err := f.checkValues(); err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return f, nil
}

// Close unmaps the file.
func (f *File) Close() error { return f.ckpt.Close() }

// index splits tensor names into module key and role.
func (f *File) index() error {
	names := f.ckpt.Names()
	if len(names) == 0 {
		return fmt.Errorf("the file has no tensors")
	}
	if err := notAnAdapter(names); err != nil {
		return err
	}
	byKey := map[string]*Module{}
	for _, n := range names {
		key, suffix, ok := splitName(n)
		if !ok {
			f.Unknown = append(f.Unknown, n)
			continue
		}
		if what, bad := refused[suffix]; bad {
			return fmt.Errorf("tensor %q: %s is not supported", n, what)
		}
		part, naming, err := partOf(key)
		if err != nil {
			return fmt.Errorf("tensor %q: %v", n, err)
		}
		if part == "" {
			f.Unknown = append(f.Unknown, n)
			continue
		}
		if f.Naming == "" {
			f.Naming = naming
		} else if f.Naming != naming {
			return fmt.Errorf("tensor %q: mixes %s and %s naming", n, f.Naming, naming)
		}
		m := byKey[key]
		if m == nil {
			m = &Module{Key: key, Part: part, Tensors: map[string]string{}}
			byKey[key] = m
		}
		m.Tensors[roles[suffix]] = n
	}
	for _, m := range byKey {
		if err := m.classify(); err != nil {
			return err
		}
		f.Modules = append(f.Modules, m)
	}
	if len(f.Modules) == 0 {
		return fmt.Errorf("no LoRA, LoHa or LoKr modules among its %d tensors (first: %q): not an SDXL adapter", len(names), names[0])
	}
	sort.Slice(f.Modules, func(i, j int) bool { return f.Modules[i].Key < f.Modules[j].Key })
	return nil
}

// splitName cuts a tensor name into module key and a known suffix.
func splitName(n string) (key, suffix string, ok bool) {
	for s := range roles {
		if k, found := strings.CutSuffix(n, "."+s); found {
			return k, s, true
		}
	}
	for s := range refused {
		if k, found := strings.CutSuffix(n, "."+s); found {
			return k, s, true
		}
	}
	return "", "", false
}

// partOf tells from a module key which network it adapts and in which
// naming; "" for keys of no network this package knows.
func partOf(key string) (Part, string, error) {
	switch {
	case strings.HasPrefix(key, "lora_unet_"):
		return PartUNet, "kohya", nil
	case strings.HasPrefix(key, "lora_te1_"):
		return PartTE1, "kohya", nil
	case strings.HasPrefix(key, "lora_te2_"):
		return PartTE2, "kohya", nil
	case strings.HasPrefix(key, "lora_te_"):
		return "", "", fmt.Errorf("a Stable Diffusion 1.x/2.x LoRA (one text encoder, lora_te_*): only SDXL LoRAs (lora_te1_/lora_te2_) fit an SDXL checkpoint")
	case strings.HasPrefix(key, "unet."):
		return PartUNet, "peft", nil
	case strings.HasPrefix(key, "text_encoder."):
		return PartTE1, "peft", nil
	case strings.HasPrefix(key, "text_encoder_2."):
		return PartTE2, "peft", nil
	}
	return "", "", nil
}

// notAnAdapter recognises full checkpoints and embeddings by their names.
func notAnAdapter(names []string) error {
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, weights.UNetPrefix):
			return fmt.Errorf("a full checkpoint (tensor %q), not a LoRA", n)
		case n == "clip_l" || n == "clip_g" || n == "emb_params" || strings.HasPrefix(n, "string_to_param"):
			return fmt.Errorf("a textual-inversion embedding (tensor %q), not a LoRA: put it in the embedding folder", n)
		}
	}
	return nil
}

// classify sets the module's kind from the roles it has, or says what is
// missing.
func (m *Module) classify() error {
	has := func(r string) bool { _, ok := m.Tensors[r]; return ok }
	switch {
	case has("down") || has("up"):
		m.Kind = KindLoRA
		if !has("down") || !has("up") {
			return fmt.Errorf("module %q: a LoRA needs both the down and the up matrix", m.Key)
		}
	case strings.Contains(m.Tensors["w1a"]+m.Tensors["w2a"], ".hada_"):
		m.Kind = KindLoHa
		for _, r := range []string{"w1a", "w1b", "w2a", "w2b"} {
			if !has(r) {
				return fmt.Errorf("module %q: a LoHa needs hada_w1_a, hada_w1_b, hada_w2_a and hada_w2_b", m.Key)
			}
		}
	case has("w1") || has("w2") || strings.Contains(m.Tensors["w1a"]+m.Tensors["w2a"], ".lokr_"):
		m.Kind = KindLoKr
		if !has("w1") && !(has("w1a") && has("w1b")) || !has("w2") && !(has("w2a") && has("w2b")) {
			return fmt.Errorf("module %q: a LoKr needs lokr_w1 (or lokr_w1_a and _b) and lokr_w2 (or lokr_w2_a and _b)", m.Key)
		}
	default:
		return fmt.Errorf("module %q: only an alpha, no adapter matrices", m.Key)
	}
	return nil
}

// checkValues reads every tensor once and refuses NaN or Inf, so that a
// bad file fails before anything is merged.
func (f *File) checkValues() error {
	for _, n := range f.ckpt.Names() {
		v, _, err := f.read(n)
		if err != nil {
			return err
		}
		for i, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("tensor %q holds %v at element %d", n, x, i)
			}
		}
	}
	return nil
}

// read widens one tensor of the file to float32.
func (f *File) read(name string) ([]float32, tensor.Shape, error) {
	e, ok := f.ckpt.Lookup(name)
	if !ok {
		return nil, nil, fmt.Errorf("tensor %q is missing", name)
	}
	raw, err := e.Bytes()
	if err != nil {
		return nil, nil, fmt.Errorf("tensor %q: %v", name, err)
	}
	v, err := decode(e.DType, e.Shape, raw)
	if err != nil {
		return nil, nil, fmt.Errorf("tensor %q: %v", name, err)
	}
	return v, e.Shape, nil
}

// Shape returns a tensor's shape as stored.
func (f *File) Shape(name string) tensor.Shape {
	e, _ := f.ckpt.Lookup(name)
	return e.Shape
}

// checkBase refuses adapters whose kohya or ModelSpec metadata names
// another base model (the names alone may not tell an SD 1.x LoRA in
// diffusers naming from an SDXL one).
func checkBase(meta map[string]string) error {
	if v, ok := meta["ss_base_model_version"]; ok && v != "" && !strings.HasPrefix(v, "sdxl") {
		return fmt.Errorf("a LoRA trained for %s (ss_base_model_version), not SDXL", v)
	}
	if v, ok := meta["modelspec.architecture"]; ok && v != "" && !strings.HasPrefix(v, "stable-diffusion-xl") {
		return fmt.Errorf("a LoRA for %s (modelspec.architecture), not SDXL", v)
	}
	return nil
}
