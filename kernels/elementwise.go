//go:build cuda

package kernels

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// Unary applies SiLU, GELU (erf) or QuickGELU; dst may alias x.
func (b *Backend) Unary(dst, x *tensor.Tensor, op tensor.UnaryOp) {
	mustFloat("Unary", dst, x)
	mustSameDType("Unary", dst, x)
	mustShape("Unary", "dst", dst, x.Shape()...)
	if op != tensor.SiLU && op != tensor.GELU && op != tensor.QuickGELU {
		panic(fmt.Sprintf("kernels: Unary: unknown op %v", op))
	}
	n := elems("Unary", x)
	b.Launch(Kernel{"elementwise", "unary_" + suffix(x.DType())}, D1(gridFor(n)), D1(256), 0, dst, x, n, int(op))
}

// GEGLU: dst[..., N] = x[..., :N] · gelu(x[..., N:]).
func (b *Backend) GEGLU(dst, x *tensor.Tensor) {
	mustFloat("GEGLU", dst, x)
	mustSameDType("GEGLU", dst, x)
	xs, ds := x.Shape(), dst.Shape()
	if xs.Last()%2 != 0 || ds.Last()*2 != xs.Last() || ds.Rows() != xs.Rows() {
		panic(fmt.Sprintf("kernels: GEGLU: x %v does not map to dst %v (x[...,2N] -> dst[...,N])", x, dst))
	}
	n := elems("GEGLU", dst)
	b.Launch(Kernel{"elementwise", "geglu_" + suffix(x.DType())}, D1(gridFor(n)), D1(256), 0, dst, x, ds.Rows(), ds.Last())
}

// Binary: dst = a op b with b broadcast over a; dst may alias a. b may be
// stored in another float type than a (a weight-like operand).
func (b *Backend) Binary(dst, a, x *tensor.Tensor, op tensor.BinaryOp) {
	mustFloat("Binary", dst, a, x)
	mustSameDType("Binary", dst, a)
	mustShape("Binary", "dst", dst, a.Shape()...)
	if op != tensor.Add && op != tensor.Mul {
		panic(fmt.Sprintf("kernels: Binary: unknown op %v", op))
	}
	n, s, ok := broadcastPlan(a.Shape(), x.Shape())
	if !ok {
		panic(fmt.Sprintf("kernels: Binary %v: %v does not broadcast onto %v", op, x, a))
	}
	total := elems("Binary", a)
	b.Launch(Kernel{"elementwise", "binary_" + pairSuffix(a.DType(), x.DType())}, D1(gridFor(total)), D1(256), 0,
		dst, a, x, int(op), n[0], n[1], n[2], n[3], s[0], s[1], s[2], s[3])
}

// ResizeNearest: x [B,H,W,C] -> dst [B,H',W',C] as torch's nearest
// interpolation to a size; the kernel computes each source pixel itself,
// so odd sizes need no index table (nothing uploaded mid-step: the step
// stays capturable as a graph).
func (b *Backend) ResizeNearest(dst, x *tensor.Tensor) {
	mustFloat("ResizeNearest", dst, x)
	mustSameDType("ResizeNearest", dst, x)
	xs, ds := x.Shape(), dst.Shape()
	if len(xs) != 4 || len(ds) != 4 || ds[0] != xs[0] || ds[3] != xs[3] || ds[1] == 0 || ds[2] == 0 {
		panic(fmt.Sprintf("kernels: ResizeNearest: x %v, dst %v do not fit (x [B,H,W,C], dst [B,H',W',C])", x, dst))
	}
	elems("ResizeNearest", x)
	n := elems("ResizeNearest", dst)
	// The scales as torch computes them, in float32 (tensor.NearestIndex).
	sh, sw := float32(xs[1])/float32(ds[1]), float32(xs[2])/float32(ds[2])
	b.Launch(Kernel{"elementwise", "resize_nearest_" + suffix(x.DType())}, D1(gridFor(n)), D1(256), 0,
		dst, x, xs[0], xs[1], xs[2], xs[3], ds[1], ds[2], sh, sw)
}

// Concat joins a [..., Ca] and x [..., Cb] along the last dimension.
func (b *Backend) Concat(dst, a, x *tensor.Tensor) {
	mustFloat("Concat", dst, a, x)
	mustSameDType("Concat", dst, a)
	mustSameDType("Concat", dst, x)
	as, xs := a.Shape(), x.Shape()
	want := append(as[:len(as)-1].Clone(), as.Last()+xs.Last())
	if len(as) != len(xs) || !as[:len(as)-1].Equal(xs[:len(xs)-1]) {
		panic(fmt.Sprintf("kernels: Concat: %v and %v differ before the last dimension", a, x))
	}
	mustShape("Concat", "dst", dst, want...)
	n := elems("Concat", dst)
	b.Launch(Kernel{"elementwise", "concat_" + suffix(a.DType())}, D1(gridFor(n)), D1(256), 0,
		dst, a, x, as.Rows(), as.Last(), xs.Last())
}

// Slice copies x[..., offset : offset+dst.Last] into dst.
func (b *Backend) Slice(dst, x *tensor.Tensor, offset int) {
	mustFloat("Slice", dst, x)
	mustSameDType("Slice", dst, x)
	xs, ds := x.Shape(), dst.Shape()
	if len(xs) != len(ds) || !xs[:len(xs)-1].Equal(ds[:len(ds)-1]) || offset < 0 || offset+ds.Last() > xs.Last() {
		panic(fmt.Sprintf("kernels: Slice: dst %v at offset %d does not fit in x %v", dst, offset, x))
	}
	n := elems("Slice", dst)
	b.Launch(Kernel{"elementwise", "slice_" + suffix(x.DType())}, D1(gridFor(n)), D1(256), 0,
		dst, x, xs.Rows(), xs.Last(), ds.Last(), offset)
}

// Cast converts between floating-point types (same shape).
func (b *Backend) Cast(dst, x *tensor.Tensor) {
	mustFloat("Cast", dst, x)
	mustShape("Cast", "dst", dst, x.Shape()...)
	n := elems("Cast", x)
	b.Launch(Kernel{"elementwise", "cast_" + pairSuffix(x.DType(), dst.DType())}, D1(gridFor(n)), D1(256), 0, dst, x, n)
}

// Gather looks up rows of table [V, C] for I32 ids [N...] into dst [N..., C].
// Ids outside [0, V) give zero rows (the kernel cannot panic).
func (b *Backend) Gather(dst, table, ids *tensor.Tensor) {
	mustFloat("Gather", dst, table)
	ts := table.Shape()
	if ids.DType() != tensor.I32 || len(ts) != 2 {
		panic(fmt.Sprintf("kernels: Gather: table %v must be [V,C] and ids %v I32", table, ids))
	}
	mustShape("Gather", "dst", dst, append(ids.Shape().Clone(), ts[1])...)
	n := elems("Gather", dst)
	b.Launch(Kernel{"elementwise", "gather_" + pairSuffix(dst.DType(), table.DType())}, D1(gridFor(n)), D1(256), 0,
		dst, table, ids, ids.NumElements(), ts[0], ts[1])
}
