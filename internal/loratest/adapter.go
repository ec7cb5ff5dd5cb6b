package loratest

import (
	"fmt"
	"math/rand"
)

// Module is one adapted layer of a test adapter, described by the test
// itself: the canonical checkpoint weight it targets (a row block of it for
// bigG's fused in_proj), the key it is stored under, its kind and factors.
type Module struct {
	Canonical     string
	Block, Blocks int // row block of Canonical (0 of 1: all of it)
	Key           string
	Kind          string // "lora", "lora-peft", "loha", "lokr"
	Text          bool   // a text-encoder module (the te strength applies)
	Alpha         float64
	HasAlpha      bool
	Factors       map[string]*Tensor // suffix ("lora_down.weight", "hada_w1_a", …) → tensor
}

// Adapter is a test adapter file's modules.
type Adapter struct{ Modules []*Module }

// File returns the adapter as safetensors tensors under their stored names.
func (a *Adapter) File() *File {
	f := &File{Tensors: map[string]*Tensor{}}
	for _, m := range a.Modules {
		for suffix, t := range m.Factors {
			f.Tensors[m.Key+"."+suffix] = t
		}
		if m.HasAlpha {
			f.Tensors[m.Key+".alpha"] = &Tensor{DType: "F32", Shape: []int{}, V: []float64{m.Alpha}}
		}
	}
	return f
}

// Random returns a tensor of dtype dt with values uniform in ±amp, each
// rounded to dt so that the float64 reference sees exactly what is stored.
func Random(r *rand.Rand, dt string, amp float64, shape ...int) *Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	t := &Tensor{DType: dt, Shape: shape, V: make([]float64, n)}
	for i := range t.V {
		t.V[i] = Round(dt, (2*r.Float64()-1)*amp)
	}
	return t
}

// rows2 views a tensor as a matrix: first axis rows, the rest columns.
func rows2(t *Tensor) (int, int) { return t.Shape[0], len(t.V) / t.Shape[0] }

// matmul multiplies row-major a [n,k] and b [k,m] in float64.
func matmul(a *Tensor, b *Tensor) ([]float64, int, int) {
	n, k := rows2(a)
	k2, m := rows2(b)
	if k != k2 {
		panic(fmt.Sprintf("loratest: %v × %v", a.Shape, b.Shape))
	}
	out := make([]float64, n*m)
	for i := 0; i < n; i++ {
		for j := 0; j < m; j++ {
			var s float64
			for l := 0; l < k; l++ {
				s += a.V[i*k+l] * b.V[l*m+j]
			}
			out[i*m+j] = s
		}
	}
	return out, n, m
}

// Delta is the module's ΔW·scale in float64 as rows × cols (cols: the
// weight's other axes in checkpoint order), by the formulas of A1111's
// network modules: LoRA up·down, LoHa (w1a·w1b)⊙(w2a·w2b), LoKr w1⊗w2; the
// scale alpha/rank, rank being down's rows (LoRA), hada_w1_b's rows (LoHa),
// lokr_w2_b's else lokr_w1_b's rows (LoKr), 1 without alpha or rank.
func (m *Module) Delta() (v []float64, rows, cols int) {
	f := m.Factors
	rank := 0
	switch m.Kind {
	case "lora", "lora-peft":
		up, down := f["lora_up.weight"], f["lora_down.weight"]
		if m.Kind == "lora-peft" {
			up, down = f["lora_B.weight"], f["lora_A.weight"]
		}
		v, rows, cols = matmul(up, down)
		rank = down.Shape[0]
	case "loha":
		a, r, c := matmul(f["hada_w1_a"], f["hada_w1_b"])
		b, _, _ := matmul(f["hada_w2_a"], f["hada_w2_b"])
		for i := range a {
			a[i] *= b[i]
		}
		v, rows, cols, rank = a, r, c, f["hada_w1_b"].Shape[0]
	case "lokr":
		w1 := f["lokr_w1"]
		if w1 == nil {
			p, r, c := matmul(f["lokr_w1_a"], f["lokr_w1_b"])
			w1 = &Tensor{Shape: []int{r, c}, V: p}
			rank = f["lokr_w1_b"].Shape[0]
		}
		w2 := f["lokr_w2"]
		if w2 == nil {
			p, r, c := matmul(f["lokr_w2_a"], f["lokr_w2_b"])
			w2 = &Tensor{Shape: []int{r, c}, V: p}
			rank = f["lokr_w2_b"].Shape[0]
		}
		p, q := rows2(w1)
		r, s := rows2(w2)
		rows, cols = p*r, q*s
		v = make([]float64, rows*cols)
		for i := 0; i < p; i++ {
			for j := 0; j < q; j++ {
				for k := 0; k < r; k++ {
					for l := 0; l < s; l++ {
						v[(i*r+k)*cols+j*s+l] = w1.V[i*q+j] * w2.V[k*s+l]
					}
				}
			}
		}
	default:
		panic("loratest: unknown kind " + m.Kind)
	}
	if m.HasAlpha && rank > 0 {
		for i := range v {
			v[i] *= m.Alpha / float64(rank)
		}
	}
	return v, rows, cols
}

// Use is an adapter with its strengths.
type Use struct {
	Adapter    *Adapter
	UNet, Text float64
}

// Merge returns the checkpoint ckpt with every use merged: each targeted
// weight W becomes round(W + Σ strength·ΔW), summed in float64 and rounded
// once to W's dtype.
func Merge(ckpt *File, uses []Use) (*File, error) {
	out := &File{Tensors: map[string]*Tensor{}, Metadata: ckpt.Metadata}
	sums := map[string][]float64{}
	for _, u := range uses {
		for _, m := range u.Adapter.Modules {
			w, ok := ckpt.Tensors[m.Canonical]
			if !ok {
				return nil, fmt.Errorf("no %s in the checkpoint", m.Canonical)
			}
			s := u.UNet
			if m.Text {
				s = u.Text
			}
			d, rows, cols := m.Delta()
			if rows*cols*m.Blocks != len(w.V) {
				return nil, fmt.Errorf("%s: ΔW %d×%d (block %d of %d) does not fit %v", m.Key, rows, cols, m.Block, m.Blocks, w.Shape)
			}
			acc := sums[m.Canonical]
			if acc == nil {
				acc = append([]float64(nil), w.V...)
				sums[m.Canonical] = acc
			}
			base := m.Block * rows * cols
			for i, x := range d {
				acc[base+i] += s * x
			}
		}
	}
	for name, t := range ckpt.Tensors {
		if acc, ok := sums[name]; ok {
			nt := &Tensor{DType: t.DType, Shape: t.Shape, V: make([]float64, len(acc))}
			for i, x := range acc {
				nt.V[i] = Round(t.DType, x)
			}
			out.Tensors[name] = nt
			continue
		}
		out.Tensors[name] = t
	}
	return out, nil
}
