package cpu

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// The layout operations move elements without arithmetic, so they accept
// tensors of any dtype as long as source and destination agree.

func sameDType(op string, ts ...*tensor.Tensor) {
	for _, t := range ts[1:] {
		if t.DType() != ts[0].DType() {
			panic(fmt.Sprintf("cpu: %s: dtypes differ: %v and %v", op, ts[0], t))
		}
	}
}

// copyElems copies n elements from src[so:] to dst[do:] for any storage type.
func copyElems(dst, src *tensor.Tensor, do, so, n int) {
	switch d := dst.Storage().(type) {
	case []float32:
		copy(d[do:do+n], src.Storage().([]float32)[so:so+n])
	case []uint16:
		copy(d[do:do+n], src.Storage().([]uint16)[so:so+n])
	case []int32:
		copy(d[do:do+n], src.Storage().([]int32)[so:so+n])
	case []int64:
		copy(d[do:do+n], src.Storage().([]int64)[so:so+n])
	default:
		panic(fmt.Sprintf("cpu: unsupported storage for %v", dst))
	}
}

// ResizeNearest copies to each output pixel of dst [B,H',W',C] the input
// pixel torch's nearest interpolation picks (tensor.NearestIndex).
func (b *Backend) ResizeNearest(dst, x *tensor.Tensor) {
	b.launch("ResizeNearest", dst, x)
	xs, ds := x.Shape(), dst.Shape()
	if len(xs) != 4 || len(ds) != 4 || ds[0] != xs[0] || ds[3] != xs[3] || ds[1] == 0 || ds[2] == 0 {
		panic(fmt.Sprintf("cpu: ResizeNearest: x %v, dst %v do not fit (x [B,H,W,C], dst [B,H',W',C])", xs, ds))
	}
	sameDType("ResizeNearest", dst, x)
	h, w, c := xs[1], xs[2], xs[3]
	oh, ow := ds[1], ds[2]
	rows, cols := tensor.NearestIndex(h, oh), tensor.NearestIndex(w, ow)
	parallelFor(xs[0]*oh, 8, func(lo, hi int) {
		for row := lo; row < hi; row++ { // row = b*oh + oy
			img, oy := row/oh, row%oh
			for ox, sx := range cols {
				src := ((img*h+rows[oy])*w + sx) * c
				copyElems(dst, x, (row*ow+ox)*c, src, c)
			}
		}
	})
}

// Concat joins a [..., Ca] and b [..., Cb] into dst [..., Ca+Cb].
func (b *Backend) Concat(dst, a, bb *tensor.Tensor) {
	b.launch("Concat", dst, a, bb)
	as, bs, ds := a.Shape(), bb.Shape(), dst.Shape()
	if len(as) < 1 || !sameLeading(as, bs) || !sameLeading(as, ds) || ds.Last() != as.Last()+bs.Last() {
		panic(fmt.Sprintf("cpu: Concat: a %v, b %v, dst %v do not fit (dst [..., Ca+Cb])", as, bs, ds))
	}
	sameDType("Concat", dst, a, bb)
	ca, cb, cd := as.Last(), bs.Last(), ds.Last()
	parallelFor(ds.Rows(), 64, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			copyElems(dst, a, r*cd, r*ca, ca)
			copyElems(dst, bb, r*cd+ca, r*cb, cb)
		}
	})
}

// Slice copies x[..., offset:offset+dst.Last] into dst.
func (b *Backend) Slice(dst, x *tensor.Tensor, offset int) {
	b.launch("Slice", dst, x)
	xs, ds := x.Shape(), dst.Shape()
	if len(xs) < 1 || !sameLeading(xs, ds) || offset < 0 || offset+ds.Last() > xs.Last() {
		panic(fmt.Sprintf("cpu: Slice: x %v, dst %v, offset %d do not fit", xs, ds, offset))
	}
	sameDType("Slice", dst, x)
	cx, cd := xs.Last(), ds.Last()
	parallelFor(ds.Rows(), 64, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			copyElems(dst, x, r*cd, r*cx+offset, cd)
		}
	})
}

// Cast converts between F32, F16 and BF16 (round to nearest even).
func (b *Backend) Cast(dst, x *tensor.Tensor) {
	b.launch("Cast", dst, x)
	if !x.Shape().Equal(dst.Shape()) || !x.DType().IsFloat() || !dst.DType().IsFloat() {
		panic(fmt.Sprintf("cpu: Cast: x %v and dst %v must be floating point of the same shape", x, dst))
	}
	n := x.NumElements()
	parallelFor(n, 1<<14, func(lo, hi int) {
		if x.DType() == dst.DType() {
			copyElems(dst, x, lo, lo, hi-lo)
			return
		}
		switch d := dst.Storage().(type) {
		case []float32:
			widen(d[lo:hi], x, lo)
		case []uint16:
			tmp := make([]float32, hi-lo)
			widen(tmp, x, lo)
			narrow(d[lo:hi], tmp, dst.DType())
		}
	})
}

// Gather copies table rows: dst[i] = table[ids[i]]. dst is F32 (widening
// the table) or the table's own dtype.
func (b *Backend) Gather(dst, table, ids *tensor.Tensor) {
	b.launch("Gather", dst, table, ids)
	ts, is, ds := table.Shape(), ids.Shape(), dst.Shape()
	if len(ts) != 2 || len(ds) != len(is)+1 || !ds[:len(is)].Equal(is) || ds.Last() != ts[1] {
		panic(fmt.Sprintf("cpu: Gather: table %v, ids %v, dst %v do not fit (table [V,C], dst [ids..., C])", ts, is, ds))
	}
	if dst.DType() != tensor.F32 && dst.DType() != table.DType() {
		panic(fmt.Sprintf("cpu: Gather: dst %v must be F32 or the table's dtype %v", dst, table.DType()))
	}
	index := func(i int) int {
		switch s := ids.Storage().(type) {
		case []int32:
			return int(s[i])
		case []int64:
			return int(s[i])
		}
		panic(fmt.Sprintf("cpu: Gather: ids %v must be I32 or I64", ids))
	}
	v, c := ts[0], ts[1]
	for i := range ids.NumElements() {
		if id := index(i); id < 0 || id >= v {
			panic(fmt.Sprintf("cpu: Gather: id %d at position %d is outside the table %v", id, i, ts))
		}
	}
	for i := range ids.NumElements() {
		row := index(i) * c
		if dst.DType() == table.DType() {
			copyElems(dst, table, i*c, row, c)
		} else {
			widen(dst.Storage().([]float32)[i*c:(i+1)*c], table, row)
		}
	}
}
