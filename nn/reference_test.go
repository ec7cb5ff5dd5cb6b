package nn

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
	"github.com/gosdxl/gosdxl/weights"
)

// Layer tests compare the float32 layers on the CPU backend with naive
// float64 compositions written here from the layer definitions (torch
// layouts: Linear [out,in], Conv [O,I,KH,KW], activations channels-last).

// tolerance is the relative L2 error the reference README suggests for
// float32 components (its measured float32-vs-float64 spread is ~1e-6).
const tolerance = 1e-5

// fakeSource is an in-memory checkpoint: each tensor is generated at random,
// stored as F16 or F32 bytes, and its exact stored values kept in float64
// for the reference computation.
type fakeSource struct {
	rng     *rand.Rand
	entries map[string]weights.Entry
	values  map[string][]float64
}

func newFakeSource(seed uint64) *fakeSource {
	return &fakeSource{
		rng:     rand.New(rand.NewPCG(seed, 1)),
		entries: map[string]weights.Entry{},
		values:  map[string][]float64{},
	}
}

// add stores a random tensor (normal·scale + offset) and returns its values.
func (s *fakeSource) add(name string, dt tensor.DType, scale, offset float64, shape ...int) []float64 {
	n := tensor.Shape(shape).NumElements()
	vals := make([]float64, n)
	raw := make([]byte, n*dt.Size())
	for i := range vals {
		f := float32(s.rng.NormFloat64()*scale + offset)
		switch dt {
		case tensor.F16:
			h := tensor.F32ToF16(f)
			binary.LittleEndian.PutUint16(raw[2*i:], h)
			vals[i] = float64(tensor.F16ToF32(h))
		case tensor.F32:
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
			vals[i] = float64(f)
		}
	}
	s.entries[name] = weights.Entry{DType: dt, Shape: shape, Bytes: func() ([]byte, error) { return raw, nil }}
	s.values[name] = vals
	return vals
}

func (s *fakeSource) Names() []string {
	var names []string
	for n := range s.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
func (s *fakeSource) Lookup(name string) (weights.Entry, bool) {
	e, ok := s.entries[name]
	return e, ok
}
func (s *fakeSource) Path() string { return "fake" }
func (s *fakeSource) Close() error { return nil }

// bind binds layer to src and fails on any missing, mis-shaped or unused tensor.
func bind(t *testing.T, b tensor.Backend, src *fakeSource, prefix string, layer any) {
	t.Helper()
	bd := weights.NewBinder(b, src)
	bd.Bind(prefix, layer)
	if err := bd.Err(); err != nil {
		t.Fatal(err)
	}
	if u := bd.Unused(); len(u) > 0 {
		t.Fatalf("unused tensors: %v", u)
	}
}

// input makes a random F32 activation tensor and its float64 values.
func input(b tensor.Backend, rng *rand.Rand, shape ...int) (*tensor.Tensor, []float64) {
	n := tensor.Shape(shape).NumElements()
	f := make([]float32, n)
	d := make([]float64, n)
	for i := range f {
		f[i] = float32(rng.NormFloat64())
		d[i] = float64(f[i])
	}
	return b.FromFloat32(tensor.F32, shape, f), d
}

func checkClose(t *testing.T, what string, b tensor.Backend, got *tensor.Tensor, want []float64, wantShape ...int) {
	t.Helper()
	if !got.Shape().Equal(wantShape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), tensor.Shape(wantShape))
	}
	g := b.ToFloat32(got)
	var num, den float64
	for i := range g {
		if math.IsNaN(float64(g[i])) || math.IsInf(float64(g[i]), 0) {
			t.Fatalf("%s: non-finite value at %d", what, i)
		}
		d := float64(g[i]) - want[i]
		num += d * d
		den += want[i] * want[i]
	}
	rel := math.Sqrt(num / den)
	if rel > tolerance {
		t.Errorf("%s: relative L2 error %.3g > %g", what, rel, tolerance)
	}
	t.Logf("%s: relative L2 error %.3g", what, rel)
}

func newCPU() tensor.Backend { return cpu.New() }

// ---- float64 reference operations ----

func linear64(x []float64, in int, w, bias []float64) []float64 {
	out := len(w) / in
	rows := len(x) / in
	y := make([]float64, rows*out)
	for r := 0; r < rows; r++ {
		for o := 0; o < out; o++ {
			s := 0.0
			if bias != nil {
				s = bias[o]
			}
			for k := 0; k < in; k++ {
				s += x[r*in+k] * w[o*in+k]
			}
			y[r*out+o] = s
		}
	}
	return y
}

// conv64 convolves x [n,h,w,cin] with w [cout,cin,k,k]; returns [n,ho,wo,cout].
func conv64(x []float64, n, h, wd, cin int, w, bias []float64, cout, k, stride, pad int) ([]float64, int, int) {
	ho, wo := (h+2*pad-k)/stride+1, (wd+2*pad-k)/stride+1
	y := make([]float64, n*ho*wo*cout)
	for b := 0; b < n; b++ {
		for oy := 0; oy < ho; oy++ {
			for ox := 0; ox < wo; ox++ {
				for o := 0; o < cout; o++ {
					s := 0.0
					if bias != nil {
						s = bias[o]
					}
					for ky := 0; ky < k; ky++ {
						for kx := 0; kx < k; kx++ {
							iy, ix := oy*stride-pad+ky, ox*stride-pad+kx
							if iy < 0 || iy >= h || ix < 0 || ix >= wd {
								continue
							}
							for c := 0; c < cin; c++ {
								s += x[((b*h+iy)*wd+ix)*cin+c] * w[((o*cin+c)*k+ky)*k+kx]
							}
						}
					}
					y[((b*ho+oy)*wo+ox)*cout+o] = s
				}
			}
		}
	}
	return y, ho, wo
}

func silu64(v float64) float64 { return v / (1 + math.Exp(-v)) }
func gelu64(v float64) float64 { return 0.5 * v * (1 + math.Erf(v/math.Sqrt2)) }

// groupNorm64 normalises x [n, positions, c] in groups of c/groups channels.
func groupNorm64(x []float64, n, c, groups int, gamma, beta []float64, eps float64, silu bool) []float64 {
	y := make([]float64, len(x))
	pos := len(x) / (n * c)
	per := c / groups
	for b := 0; b < n; b++ {
		for g := 0; g < groups; g++ {
			var sum, sq float64
			for p := 0; p < pos; p++ {
				for ch := g * per; ch < (g+1)*per; ch++ {
					sum += x[(b*pos+p)*c+ch]
				}
			}
			cnt := float64(pos * per)
			mean := sum / cnt
			for p := 0; p < pos; p++ {
				for ch := g * per; ch < (g+1)*per; ch++ {
					d := x[(b*pos+p)*c+ch] - mean
					sq += d * d
				}
			}
			inv := 1 / math.Sqrt(sq/cnt+eps)
			for p := 0; p < pos; p++ {
				for ch := g * per; ch < (g+1)*per; ch++ {
					i := (b*pos+p)*c + ch
					v := (x[i]-mean)*inv*gamma[ch] + beta[ch]
					if silu {
						v = silu64(v)
					}
					y[i] = v
				}
			}
		}
	}
	return y
}

func layerNorm64(x []float64, c int, gamma, beta []float64, eps float64) []float64 {
	return groupNorm64(x, len(x)/c, c, 1, gamma, beta, eps, false)
}

// attention64: q [n,tq,heads·d], k/v [n,tk,heads·d].
func attention64(q, k, v []float64, n, heads, dim int) []float64 {
	tq, tk := len(q)/(n*dim), len(k)/(n*dim)
	d := dim / heads
	y := make([]float64, len(q))
	scores := make([]float64, tk)
	for b := 0; b < n; b++ {
		for h := 0; h < heads; h++ {
			for i := 0; i < tq; i++ {
				mx := math.Inf(-1)
				for j := 0; j < tk; j++ {
					s := 0.0
					for e := 0; e < d; e++ {
						s += q[(b*tq+i)*dim+h*d+e] * k[(b*tk+j)*dim+h*d+e]
					}
					scores[j] = s / math.Sqrt(float64(d))
					mx = math.Max(mx, scores[j])
				}
				var z float64
				for j := range scores {
					scores[j] = math.Exp(scores[j] - mx)
					z += scores[j]
				}
				for e := 0; e < d; e++ {
					s := 0.0
					for j := 0; j < tk; j++ {
						s += scores[j] * v[(b*tk+j)*dim+h*d+e]
					}
					y[(b*tq+i)*dim+h*d+e] = s / z
				}
			}
		}
	}
	return y
}

func add64(a, b []float64) []float64 {
	y := make([]float64, len(a))
	for i := range a {
		y[i] = a[i] + b[i]
	}
	return y
}
