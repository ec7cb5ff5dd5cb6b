package sdxl

import "github.com/gosdxl/gosdxl/tensor"

// ReleaseCachedMemory gives the device memory the backend keeps for reuse
// between generations back to the driver (tensor.Trimmer) and reports the
// bytes released; the weights stay loaded. Call it between generations:
// the next one takes what it needs again. On a backend without such a
// cache (the CPU) it releases nothing.
func (m *Model) ReleaseCachedMemory() (int64, error) {
	if t, ok := m.backend.(tensor.Trimmer); ok {
		return t.Trim()
	}
	return 0, nil
}

// DeviceMemory reports the backend's device memory; ok is false on a
// backend without device memory (the CPU).
func (m *Model) DeviceMemory() (mem tensor.DeviceMemory, ok bool, err error) {
	r, ok := m.backend.(tensor.MemoryReporter)
	if !ok {
		return tensor.DeviceMemory{}, false, nil
	}
	mem, err = r.DeviceMemory()
	return mem, true, err
}
