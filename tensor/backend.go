package tensor

// Backend is the narrow set of operations the layers in nn/ compute with.
// tensor/cpu implements it in pure Go (the reference); kernels/ implements it
// on NVIDIA GPUs.
//
// Rules every implementation follows:
//   - Operations are eager and destination-passing: op(dst, inputs...). dst is
//     allocated by the caller with the right shape and may not alias an input
//     unless the operation says so.
//   - A shape or dtype mismatch is a programmer error: the backend panics with
//     both shapes. A device error is sticky: the backend keeps the first one,
//     later operations become no-ops, and Sync returns it.
//   - Activations are channels-last: images [B,H,W,C], sequences [B,T,C].
//   - Weights may be stored F16, BF16 or F32 whatever the activation dtype;
//     arithmetic accumulates in float32 at least.
type Backend interface {
	// Name identifies the backend in logs and errors ("cpu", "cuda").
	Name() string

	// Alloc returns an uninitialised tensor.
	Alloc(dt DType, shape ...int) *Tensor
	// FromFloat32 creates a tensor of type dt holding data (rounded to dt).
	FromFloat32(dt DType, shape Shape, data []float32) *Tensor
	// FromRaw creates a tensor from little-endian bytes in dt's layout, such
	// as a memory-mapped checkpoint tensor. The CPU backend may alias raw, so
	// raw must stay valid and unchanged for the tensor's lifetime.
	FromRaw(dt DType, shape Shape, raw []byte) *Tensor
	// ToFloat32 copies a floating-point tensor to the host, widened to float32.
	ToFloat32(t *Tensor) []float32
	// Free releases t's storage for reuse; t must not be used afterwards.
	Free(t *Tensor)
	// Sync waits for queued work and returns the first error since the last Sync.
	Sync() error

	// Linear: dst[..., N] = x[..., K] · wᵀ + bias, with w [N, K] as stored in
	// checkpoints (torch Linear layout) and bias [N] or nil.
	Linear(dst, x, w, bias *Tensor)
	// Conv2D: x [B,H,W,Cin], w [Cout,KH,KW,Cin] (repacked at load, see
	// nn.Conv2D), bias [Cout] or nil, dst [B,Ho,Wo,Cout]; zero padding.
	Conv2D(dst, x, w, bias *Tensor, stride, pad int)
	// GroupNorm normalises x [B, ..., C] over `groups` groups of consecutive
	// channels (all positions of a group together), then scales by gamma [C],
	// adds beta [C], and applies SiLU when silu is set.
	GroupNorm(dst, x, gamma, beta *Tensor, groups int, eps float32, silu bool)
	// LayerNorm normalises over the last dimension, then gamma [C], beta [C].
	LayerNorm(dst, x, gamma, beta *Tensor, eps float32)
	// Attention: softmax(q·kᵀ/sqrt(d))·v per head, with q [B,Tq,H·d],
	// k and v [B,Tk,H·d], dst [B,Tq,H·d], d = C/heads. With causal set, query
	// i attends to keys 0..i only. Softmax statistics are float32.
	Attention(dst, q, k, v *Tensor, heads int, causal bool)
	// Unary applies an element-wise function; dst may alias x.
	Unary(dst, x *Tensor, op UnaryOp)
	// GEGLU: x [..., 2N] -> dst [..., N] = x[..., :N] · gelu(x[..., N:]) (exact erf GELU).
	GEGLU(dst, x *Tensor)
	// Binary: dst = a op b with b broadcast: b has a's rank and each of its
	// dimensions equals a's or is 1 ([B,1,1,C] onto [B,H,W,C]). dst may alias a.
	Binary(dst, a, b *Tensor, op BinaryOp)
	// ResizeNearest: x [B,H,W,C] -> dst [B,H',W',C], each output pixel
	// (oy, ox) the input pixel (min(⌊oy·s⌋, H−1), min(⌊ox·t⌋, W−1)) with
	// s = H/H' and t = W/W' computed in float32, as torch's
	// F.interpolate(mode="nearest", size=(H', W')). 2× is plain doubling.
	ResizeNearest(dst, x *Tensor)
	// Concat joins a [..., Ca] and b [..., Cb] along the last dimension.
	Concat(dst, a, b *Tensor)
	// Slice copies x[..., offset : offset+dst.Last] (last dimension) into dst.
	Slice(dst, x *Tensor, offset int)
	// Cast converts between floating-point types (same shape).
	Cast(dst, x *Tensor)
	// Gather looks up rows: table [V, C], ids I32 [N...], dst [N..., C].
	Gather(dst, table, ids *Tensor)
}

// HostResident is implemented by backends whose tensors live in ordinary
// host memory (tensor/cpu): their arithmetic is the float32 reference and
// their allocations share the garbage-collected heap. Found by type
// assertion, through OnHost.
type HostResident interface {
	HostResident() bool
}

// OnHost reports whether b keeps its tensors in host memory.
func OnHost(b Backend) bool {
	h, ok := b.(HostResident)
	return ok && h.HostResident()
}

// UnaryOp selects an element-wise function for Backend.Unary.
type UnaryOp uint8

const (
	SiLU      UnaryOp = iota + 1 // x·sigmoid(x)
	GELU                         // exact: x·Φ(x) with erf
	QuickGELU                    // x·sigmoid(1.702x), CLIP ViT-L
)

// BinaryOp selects an element-wise operation for Backend.Binary.
type BinaryOp uint8

const (
	Add BinaryOp = iota + 1
	Mul
)

func (op UnaryOp) String() string {
	switch op {
	case SiLU:
		return "silu"
	case GELU:
		return "gelu"
	case QuickGELU:
		return "quick_gelu"
	}
	return "unary?"
}

func (op BinaryOp) String() string {
	switch op {
	case Add:
		return "add"
	case Mul:
		return "mul"
	}
	return "binary?"
}
