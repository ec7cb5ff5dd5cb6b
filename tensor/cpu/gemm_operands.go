package cpu

import "github.com/gosdxl/gosdxl/tensor"

// denseA is a row-major float32 A: row i starts at data[i*stride].
type denseA struct {
	data   []float32
	stride int
}

func (s denseA) packA(dst []float32, i0, rows, k0, kcs int) {
	packPanels(dst, rows, kcs, func(panel []float32, r, row int) {
		src := s.data[(i0+row)*s.stride+k0 : (i0+row)*s.stride+k0+kcs]
		for k, v := range src {
			panel[k*mr+r] = v
		}
	})
}

// packPanels lays a block of rows out as mr-row panels, depth-major as the
// micro-kernel reads them; packRow writes block row row into panel column r.
// Panel columns past the last row are zeroed so the kernel may compute a
// full mr rows.
func packPanels(dst []float32, rows, kcs int, packRow func(panel []float32, r, row int)) {
	for p := 0; p < rows; p += mr {
		panel := dst[p*kcs : (p+mr)*kcs]
		for r := range mr {
			if p+r >= rows {
				for k := range kcs {
					panel[k*mr+r] = 0
				}
				continue
			}
			packRow(panel, r, p+r)
		}
	}
}

// rowsB is a B given by its columns stored as rows, B[k][j] = w[j*stride+k]:
// a torch Linear weight [N,K], a repacked conv weight [Cout, KH·KW·Cin], or
// attention keys. Half-precision weights are widened while packing.
type rowsB struct {
	f32    []float32
	half   []uint16
	dt     tensor.DType
	stride int
}

func weightRowsB(w *tensor.Tensor, stride int) rowsB {
	switch s := w.Storage().(type) {
	case []float32:
		return rowsB{f32: s, dt: tensor.F32, stride: stride}
	case []uint16:
		return rowsB{half: s, dt: w.DType(), stride: stride}
	}
	panic("cpu: weight " + w.String() + " is not floating point")
}

func (s rowsB) packB(dst []float32, j0, cols, k0, kcs int) {
	done := 0
	if s.dt == tensor.F16 {
		done = packHalfPanelFast(dst, s.half[j0*s.stride+k0:], s.stride, cols, kcs)
	}
	if done == kcs {
		return
	}
	var buf [kc]float32
	for c := range nr {
		if c >= cols {
			for k := done; k < kcs; k++ {
				dst[k*nr+c] = 0
			}
			continue
		}
		off := (j0+c)*s.stride + k0
		var col []float32
		if s.f32 != nil {
			col = s.f32[off : off+kcs]
		} else {
			col = buf[:kcs]
			widenHalf(col[done:], s.half[off+done:off+kcs], s.dt)
		}
		for k := done; k < kcs; k++ {
			dst[k*nr+c] = col[k]
		}
	}
}

// denseB is a row-major float32 B: B[k][j] = data[k*stride+j] (attention
// values, a [Tk, d] slice of a [Tk, H·d] tensor).
type denseB struct {
	data   []float32
	stride int
}

func (s denseB) packB(dst []float32, j0, cols, k0, kcs int) {
	for k := range kcs {
		row := s.data[(k0+k)*s.stride+j0 : (k0+k)*s.stride+j0+cols]
		out := dst[k*nr : k*nr+nr]
		copy(out, row)
		clear(out[cols:])
	}
}
