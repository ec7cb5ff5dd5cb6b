package tensor

// HostWriter is implemented by backends that can overwrite an existing
// tensor with host data: the host→device copy into a fixed buffer that a
// replayed step (a captured CUDA graph) reads its inputs from.
type HostWriter interface {
	// WriteFloat32 copies data, rounded to dst's dtype, into dst;
	// len(data) equals dst's element count.
	WriteFloat32(dst *Tensor, data []float32)
}

// WriteFloat32 copies data into dst through b: in one copy where b is a
// HostWriter, otherwise through a temporary tensor and a Slice copy (same
// values either way).
func WriteFloat32(b Backend, dst *Tensor, data []float32) {
	if w, ok := b.(HostWriter); ok {
		w.WriteFloat32(dst, data)
		return
	}
	tmp := b.FromFloat32(dst.DType(), dst.Shape(), data)
	b.Slice(dst, tmp, 0)
	b.Free(tmp)
}
