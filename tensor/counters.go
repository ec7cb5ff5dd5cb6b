package tensor

// Counters are a backend's running totals of the work that costs time
// besides arithmetic: launches, allocations, host↔device copies and host
// waits. Tests take a snapshot before and after a UNet step and pin the
// differences, so a regression (a per-op allocation, an upload inside the
// denoising loop, a sync per layer) shows up without a GPU.
type Counters struct {
	Launches      int64 // kernel launches (CUDA) or backend ops (CPU)
	Allocs        int64 // Alloc/FromFloat32/FromRaw results handed out
	DriverAllocs  int64 // allocations that reached the system or driver (not served by a pool)
	AllocBytes    int64 // bytes of DriverAllocs
	Uploads       int64 // host→device copies (FromFloat32, FromRaw on a device)
	UploadBytes   int64
	Downloads     int64 // device→host copies (ToFloat32)
	DownloadBytes int64
	Syncs         int64 // host waits for the device (Sync, blocking copies)
	GraphLaunches int64 // captured graphs replayed, one host call each (their kernels count in Launches)
}

// Sub returns c - prev, field by field: the work done between two snapshots.
func (c Counters) Sub(prev Counters) Counters {
	return Counters{
		Launches:      c.Launches - prev.Launches,
		Allocs:        c.Allocs - prev.Allocs,
		DriverAllocs:  c.DriverAllocs - prev.DriverAllocs,
		AllocBytes:    c.AllocBytes - prev.AllocBytes,
		Uploads:       c.Uploads - prev.Uploads,
		UploadBytes:   c.UploadBytes - prev.UploadBytes,
		Downloads:     c.Downloads - prev.Downloads,
		DownloadBytes: c.DownloadBytes - prev.DownloadBytes,
		Syncs:         c.Syncs - prev.Syncs,
		GraphLaunches: c.GraphLaunches - prev.GraphLaunches,
	}
}

// Counting is implemented by backends that keep Counters (both tensor/cpu
// and kernels/ do). Callers find it by type assertion.
type Counting interface {
	Counters() Counters
}
