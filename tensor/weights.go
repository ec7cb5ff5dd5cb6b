package tensor

// WeightUploader is implemented by backends that place long-lived tensors
// differently from activations: the CUDA backend's pool rounds every block
// up to a size class (up to a third more, 1.2 GiB over the SDXL UNet's
// 4.8 GiB of weights) so that per-step buffers are reused, while a weight
// is allocated once, for the model's life, and needs exactly its size.
type WeightUploader interface {
	// FromRawWeight is FromRaw for a tensor that lives as long as the
	// model (a checkpoint weight, a LoRA-merged weight).
	FromRawWeight(dt DType, shape Shape, raw []byte) *Tensor
}

// FromRawWeight uploads a weight through b: in a block of exactly its size
// where b is a WeightUploader, otherwise as FromRaw.
func FromRawWeight(b Backend, dt DType, shape Shape, raw []byte) *Tensor {
	if w, ok := b.(WeightUploader); ok {
		return w.FromRawWeight(dt, shape, raw)
	}
	return b.FromRaw(dt, shape, raw)
}

// ShapeOnly is implemented by backends that hold no data (a memory plan):
// binding weights to one needs their shapes, not their bytes.
type ShapeOnly interface {
	ShapeOnly() bool
}

// IsShapeOnly reports whether b holds no data.
func IsShapeOnly(b Backend) bool {
	s, ok := b.(ShapeOnly)
	return ok && s.ShapeOnly()
}
