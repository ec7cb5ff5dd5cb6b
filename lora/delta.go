package lora

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// host runs the adapters' matrix products: their factors live on the host
// (read from the mapped adapter file) whatever backend holds the model.
var host = cpu.New()

// matrix is a row-major rows×cols float32 matrix on the host.
type matrix struct {
	rows, cols int
	v          []float32
}

// read loads one of the module's tensors as a matrix: the first axis is the
// rows and every other axis is flattened into the columns (a conv down
// [r, in, kh, kw] becomes r × in·kh·kw, an up [out, r, 1, 1] out × r).
func (f *File) matrix(m *Module, role string) (matrix, error) {
	v, shape, err := f.read(m.Tensors[role])
	if err != nil {
		return matrix{}, err
	}
	if len(shape) < 2 {
		return matrix{}, fmt.Errorf("tensor %q: shape %v, expected a matrix", m.Tensors[role], shape)
	}
	return matrix{rows: shape[0], cols: len(v) / shape[0], v: v}, nil
}

// mul returns a·b in float32 (A1111 multiplies the factors in float32 too).
func mul(a, b matrix) matrix {
	// Backend.Linear computes x·wᵀ with w [n, k]: pass bᵀ as w.
	bt := make([]float32, len(b.v))
	for k := 0; k < b.rows; k++ {
		for n := 0; n < b.cols; n++ {
			bt[n*b.rows+k] = b.v[k*b.cols+n]
		}
	}
	x := host.FromFloat32(tensor.F32, tensor.Shape{a.rows, a.cols}, a.v)
	w := host.FromFloat32(tensor.F32, tensor.Shape{b.cols, b.rows}, bt)
	dst := host.Alloc(tensor.F32, a.rows, b.cols)
	host.Linear(dst, x, w, nil)
	out := matrix{rows: a.rows, cols: b.cols, v: host.ToFloat32(dst)}
	// Not freed into the backend's buffer pool: these sizes recur only
	// during a merge, and the garbage collector reclaims them (Apply
	// collects every few hundred MB).
	return out
}

// alpha reads the module's alpha, if it has one.
func (f *File) alpha(m *Module) (float64, bool, error) {
	name, ok := m.Tensors["alpha"]
	if !ok {
		return 0, false, nil
	}
	v, _, err := f.read(name)
	if err != nil {
		return 0, false, err
	}
	if len(v) != 1 {
		return 0, false, fmt.Errorf("tensor %q: %d values, expected one alpha", name, len(v))
	}
	return float64(v[0]), true, nil
}

// Scale is A1111's scale of a module: alpha / rank when the module has both
// an alpha and a rank (LoRA and LoHa always have a rank, a LoKr only when a
// factor is itself factorised), otherwise 1.
func (f *File) Scale(m *Module) (float64, error) {
	alpha, ok, err := f.alpha(m)
	if err != nil || !ok {
		return 1, err
	}
	rank := f.Rank(m)
	if rank == 0 {
		return 1, nil
	}
	return alpha / float64(rank), nil
}

// Rank is the module's rank as A1111 reads it: the down matrix's rows
// (LoRA), hada_w1_b's rows (LoHa), lokr_w2_b's or else lokr_w1_b's rows
// (LoKr); 0 when a LoKr has no factorised factor.
func (f *File) Rank(m *Module) int {
	switch m.Kind {
	case KindLoRA:
		return f.Shape(m.Tensors["down"])[0]
	case KindLoHa:
		return f.Shape(m.Tensors["w1b"])[0]
	}
	if n, ok := m.Tensors["w2b"]; ok {
		return f.Shape(n)[0]
	}
	if n, ok := m.Tensors["w1b"]; ok {
		return f.Shape(n)[0]
	}
	return 0
}

// Delta computes the module's ΔW (without scale or strength) as a matrix
// rows × cols: the target weight's rows by its other axes flattened in the
// checkpoint's order (in, kh, kw). It checks that the product has exactly
// that size.
func (f *File) Delta(m *Module, rows, cols int) (matrix, error) {
	d, err := f.delta(m)
	if err != nil {
		return matrix{}, fmt.Errorf("module %q: %v", m.Key, err)
	}
	if d.rows != rows || d.cols != cols {
		return matrix{}, fmt.Errorf("module %q: ΔW is %d×%d, the checkpoint weight is %d×%d", m.Key, d.rows, d.cols, rows, cols)
	}
	return d, nil
}

func (f *File) delta(m *Module) (matrix, error) {
	get := func(role string) (matrix, error) { return f.matrix(m, role) }
	product := func(a, b string) (matrix, error) {
		x, err := get(a)
		if err != nil {
			return matrix{}, err
		}
		y, err := get(b)
		if err != nil {
			return matrix{}, err
		}
		if x.cols != y.rows {
			return matrix{}, fmt.Errorf("%s (%d columns) and %s (%d rows) cannot be multiplied", m.Tensors[a], x.cols, m.Tensors[b], y.rows)
		}
		return mul(x, y), nil
	}
	switch m.Kind {
	case KindLoRA:
		return product("up", "down")
	case KindLoHa:
		w1, err := product("w1a", "w1b")
		if err != nil {
			return matrix{}, err
		}
		w2, err := product("w2a", "w2b")
		if err != nil {
			return matrix{}, err
		}
		if w1.rows != w2.rows || w1.cols != w2.cols {
			return matrix{}, fmt.Errorf("hada_w1 is %d×%d and hada_w2 %d×%d: they must match", w1.rows, w1.cols, w2.rows, w2.cols)
		}
		for i := range w1.v {
			w1.v[i] *= w2.v[i]
		}
		return w1, nil
	}
	factor := func(full, a, b string) (matrix, error) {
		if _, ok := m.Tensors[full]; ok {
			return get(full)
		}
		return product(a, b)
	}
	w1, err := factor("w1", "w1a", "w1b")
	if err != nil {
		return matrix{}, err
	}
	w2, err := factor("w2", "w2a", "w2b")
	if err != nil {
		return matrix{}, err
	}
	return kron(w1, w2), nil
}

// kron is the Kronecker product of a [p, q] and b [r, s]: [p·r, q·s] with
// out[i·r+k, j·s+l] = a[i,j]·b[k,l]. A conv w2 [o2, i2·kh·kw] gives the
// same element order as A1111's 4-D kron reshaped to [o, i, kh, kw].
func kron(a, b matrix) matrix {
	out := matrix{rows: a.rows * b.rows, cols: a.cols * b.cols}
	out.v = make([]float32, out.rows*out.cols)
	for i := 0; i < a.rows; i++ {
		for k := 0; k < b.rows; k++ {
			row := out.v[(i*b.rows+k)*out.cols:]
			for j := 0; j < a.cols; j++ {
				x := a.v[i*a.cols+j]
				for l := 0; l < b.cols; l++ {
					row[j*b.cols+l] = x * b.v[k*b.cols+l]
				}
			}
		}
	}
	return out
}
