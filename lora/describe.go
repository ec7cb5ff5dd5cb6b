package lora

import (
	"sort"
	"strings"
)

// Description is what `gen inspect` reports about an adapter file.
type Description struct {
	Format   string            `json:"format"` // "LoRA", "LoCon", "LoHa", "LoKr" or a mix joined by "+"
	Naming   string            `json:"naming"` // "kohya" or "peft"
	Base     string            `json:"base_model_guess"`
	Hash     string            `json:"lora_hash"` // A1111's short hash
	Modules  int               `json:"modules"`
	Families []Family          `json:"families"`
	Layers   []string          `json:"layers"`
	Unused   []string          `json:"unused"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Family groups modules of one network part and layer kind with the ranks
// and alphas they use.
type Family struct {
	Name    string    `json:"name"`
	Modules int       `json:"modules"`
	Ranks   []int     `json:"ranks"`
	Alphas  []float64 `json:"alphas"`
}

// Describe summarises an opened adapter file.
func (f *File) Describe() Description {
	d := Description{Naming: f.Naming, Modules: len(f.Modules), Unused: append([]string{}, f.Unknown...),
		Layers: []string{}, Metadata: f.Metadata}
	kinds := map[string]bool{}
	fams := map[string]*Family{}
	for _, m := range f.Modules {
		kind := string(m.Kind)
		conv := f.isConv(m)
		if m.Kind == KindLoRA && conv {
			kind = "LoCon"
		}
		kinds[kind] = true
		fam := string(m.Part) + " " + layerKind(m.Key, conv)
		fm := fams[fam]
		if fm == nil {
			fm = &Family{Name: fam}
			fams[fam] = fm
		}
		fm.Modules++
		if r := f.Rank(m); r > 0 && !containsInt(fm.Ranks, r) {
			fm.Ranks = append(fm.Ranks, r)
		}
		if a, ok, _ := f.alpha(m); ok && !containsFloat(fm.Alphas, a) {
			fm.Alphas = append(fm.Alphas, a)
		}
		d.Layers = append(d.Layers, m.Key)
	}
	var ks []string
	for k := range kinds {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	d.Format = strings.Join(ks, "+")
	for _, fm := range fams {
		sort.Ints(fm.Ranks)
		sort.Float64s(fm.Alphas)
		d.Families = append(d.Families, *fm)
	}
	sort.Slice(d.Families, func(i, j int) bool { return d.Families[i].Name < d.Families[j].Name })
	d.Base = f.baseGuess()
	d.Hash, _ = ShortHash(f.Path)
	return d
}

// isConv tells a module whose ΔW has kernel axes (a 4-D factor with a
// kernel larger than 1×1, or a LyCORIS factor flattened from one).
func (f *File) isConv(m *Module) bool {
	for _, n := range m.Tensors {
		if s := f.Shape(n); len(s) == 4 && s[2]*s[3] > 1 {
			return true
		}
	}
	return false
}

func layerKind(key string, conv bool) string {
	switch {
	case strings.Contains(key, "attn"), strings.Contains(key, "self_attn"):
		return "attention"
	case strings.Contains(key, "ff_net") || strings.Contains(key, "ff.net") || strings.Contains(key, "mlp"):
		return "feed-forward"
	case conv:
		return "conv"
	}
	return "linear"
}

// baseGuess reads the base model from the metadata, else from the width
// the cross-attention keys project (2048: SDXL, 768: SD 1.x, 1024: SD 2.x).
func (f *File) baseGuess() string {
	if v := f.Metadata["ss_base_model_version"]; v != "" {
		return v + " (metadata)"
	}
	if v := f.Metadata["modelspec.architecture"]; v != "" {
		return v + " (metadata)"
	}
	for _, m := range f.Modules {
		if !strings.Contains(m.Key, "attn2") || !(strings.HasSuffix(m.Key, "to_k") || strings.HasSuffix(m.Key, "to_v")) {
			continue
		}
		if m.Kind != KindLoRA {
			continue
		}
		switch f.Shape(m.Tensors["down"]).NumElements() / f.Shape(m.Tensors["down"])[0] {
		case 2048:
			return "SDXL (cross-attention width 2048)"
		case 768:
			return "SD 1.x (cross-attention width 768)"
		case 1024:
			return "SD 2.x (cross-attention width 1024)"
		}
	}
	for _, m := range f.Modules {
		if m.Part == PartTE2 {
			return "SDXL (two text encoders)"
		}
	}
	return "unknown"
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func containsFloat(s []float64, v float64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
