package tensor

// Trimmer is implemented by backends that keep freed device memory for
// reuse (the CUDA backend's pool): Trim hands the idle part back to the
// driver, for other processes, and reports the bytes released. Memory that
// tensors still use is never touched. The next generation takes what it
// needs from the driver again, a little slower. Callers find it by type
// assertion, so packages above tensor need not import a backend.
type Trimmer interface {
	Trim() (freed int64, err error)
}

// DeviceMemory is a device backend's account of its memory, in bytes.
type DeviceMemory struct {
	// Total and Free are the driver's view of the whole device
	// (cuMemGetInfo): other processes' allocations count as used.
	Total, Free int64
	// Held is what this backend took from the driver and has not given
	// back: the weights, the blocks tensors use and the idle blocks kept
	// for reuse (what Trim can release is Held − InUse).
	Held, PeakHeld int64
	// InUse is the part of Held handed to tensors (weights included).
	InUse, PeakInUse int64
	// AllocRetries counts requests the driver refused until idle blocks
	// were released; OOMs those that failed even then.
	AllocRetries, OOMs int64
}

// MemoryReporter is implemented by backends with device memory to report
// (not the CPU backend, whose tensors are ordinary Go memory).
type MemoryReporter interface {
	DeviceMemory() (DeviceMemory, error)
}
