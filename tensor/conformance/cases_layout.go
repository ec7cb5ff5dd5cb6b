package conformance

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// exactInput creates a random activation and returns it with its exact
// float32 values (what the layout operations must reproduce bit for bit).
func (s *suite) exactInput(t *testing.T, shape ...int) (*tensor.Tensor, []float32) {
	x := s.b.FromFloat32(s.act, shape, normals(rng(t), tensor.Shape(shape).NumElements(), 1))
	return x, s.b.ToFloat32(x)
}

func (s *suite) layout(t *testing.T) {
	for _, r := range []struct{ x, out []int }{
		{[]int{2, 4, 6, 320}, []int{8, 12}}, {[]int{1, 1, 1, 3}, []int{2, 2}}, {[]int{2, 3, 5, 7}, []int{6, 10}}, // 2×
		{[]int{1, 3, 5, 8}, []int{5, 9}},      // odd skip sizes of the UNet: 2× rounded down
		{[]int{2, 39, 57, 4}, []int{78, 114}}, // a hires pass's latents
		{[]int{1, 7, 6, 3}, []int{10, 4}},     // up in one direction, down in the other
		{[]int{1, 5, 5, 2}, []int{5, 5}},      // the same size: a copy
	} {
		t.Run(fmt.Sprintf("ResizeNearest/%v->%v", r.x, r.out), func(t *testing.T) {
			b, h, w, c := r.x[0], r.x[1], r.x[2], r.x[3]
			oh, ow := r.out[0], r.out[1]
			x, xv := s.exactInput(t, r.x...)
			dst := s.poisoned(s.act, b, oh, ow, c)
			s.b.ResizeNearest(dst, x)
			want := make([]float32, 0, b*oh*ow*c)
			for bi := range b {
				for y := range oh {
					for xx := range ow {
						src := ((bi*h+torchNearest(y, h, oh))*w + torchNearest(xx, w, ow)) * c
						want = append(want, xv[src:src+c]...)
					}
				}
			}
			s.checkExact(t, s.read(t, dst), want)
		})
	}
	for _, c := range []struct {
		lead   []int
		ca, cb int
	}{
		{[]int{2, 8, 8}, 640, 320}, {[]int{1, 3}, 5, 1}, {[]int{2, 77}, 64, 128}, {[]int{3}, 1, 1},
	} {
		t.Run(fmt.Sprintf("Concat/%v+%d+%d", c.lead, c.ca, c.cb), func(t *testing.T) {
			a, av := s.exactInput(t, append(append([]int(nil), c.lead...), c.ca)...)
			bb, bv := s.exactInput(t, append(append([]int(nil), c.lead...), c.cb)...)
			dst := s.poisoned(s.act, append(append([]int(nil), c.lead...), c.ca+c.cb)...)
			s.b.Concat(dst, a, bb)
			rows := len(av) / c.ca
			want := make([]float32, 0, len(av)+len(bv))
			for r := range rows {
				want = append(want, av[r*c.ca:(r+1)*c.ca]...)
				want = append(want, bv[r*c.cb:(r+1)*c.cb]...)
			}
			s.checkExact(t, s.read(t, dst), want)
		})
	}
	for _, c := range []struct {
		lead       []int
		cx, off, n int
	}{
		{[]int{2, 8, 8}, 960, 0, 640}, {[]int{2, 8, 8}, 960, 640, 320}, {[]int{2, 64}, 2560, 1280, 1280},
		{[]int{1, 3}, 7, 3, 1}, {[]int{5}, 9, 2, 5},
	} {
		t.Run(fmt.Sprintf("Slice/%v_%d[%d:+%d]", c.lead, c.cx, c.off, c.n), func(t *testing.T) {
			x, xv := s.exactInput(t, append(append([]int(nil), c.lead...), c.cx)...)
			dst := s.poisoned(s.act, append(append([]int(nil), c.lead...), c.n)...)
			s.b.Slice(dst, x, c.off)
			var want []float32
			for r := range len(xv) / c.cx {
				want = append(want, xv[r*c.cx+c.off:r*c.cx+c.off+c.n]...)
			}
			s.checkExact(t, s.read(t, dst), want)
		})
	}
}

// gather looks up embedding rows of an F16 table (a token embedding) with
// I32 ids, including the first and last row.
func (s *suite) gather(t *testing.T) {
	for _, c := range []struct {
		v, c  int
		idsSh []int
	}{{1000, 64, []int{2, 77}}, {49408, 128, []int{1, 77}}, {7, 3, []int{5}}, {77, 1280, []int{1, 77}}} {
		t.Run(fmt.Sprintf("table_%dx%d_ids%v", c.v, c.c, c.idsSh), func(t *testing.T) {
			r := rng(t)
			table := s.weight(r, 1, c.v, c.c)
			n := tensor.Shape(c.idsSh).NumElements()
			ids := make([]int32, n)
			for i := range ids {
				ids[i] = int32(r.IntN(c.v))
			}
			ids[0], ids[n-1] = 0, int32(c.v-1)
			raw := make([]byte, 4*n)
			for i, id := range ids {
				binary.LittleEndian.PutUint32(raw[4*i:], uint32(id))
			}
			idT := s.b.FromRaw(tensor.I32, c.idsSh, raw)
			dst := s.poisoned(s.act, append(append([]int(nil), c.idsSh...), c.c)...)
			s.b.Gather(dst, table.t, idT)
			want := make([]float32, 0, n*c.c)
			for _, id := range ids {
				for _, v := range table.vals[int(id)*c.c : int(id+1)*c.c] {
					want = append(want, float32(v))
				}
			}
			s.checkExact(t, s.read(t, dst), roundTo(s.act, want))
		})
	}
}
