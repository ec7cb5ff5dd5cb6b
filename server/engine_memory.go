package server

import "github.com/gosdxl/gosdxl/tensor"

// MemoryManager is implemented by runners that hold the model on a device
// of their own (Engine): /sdapi/v1/memory reports their memory, and
// POST /free and Config.TrimWhenIdle release what they keep cached.
type MemoryManager interface {
	// DeviceMemory reports the device's memory; ok is false for a model
	// on the CPU.
	DeviceMemory() (mem tensor.DeviceMemory, ok bool, err error)
	// ReleaseCachedMemory gives idle device memory back to the driver.
	// During a job it only asks for it (deferred): the release happens as
	// the job ends, so the job does not pay for re-allocating.
	ReleaseCachedMemory() (freed int64, deferred bool, err error)
}

var _ MemoryManager = (*Engine)(nil)

// DeviceMemory reports the model's device memory.
func (e *Engine) DeviceMemory() (tensor.DeviceMemory, bool, error) {
	return e.model.DeviceMemory()
}

// ReleaseCachedMemory releases the backend's idle device memory now when
// no job runs, else when the running one ends.
func (e *Engine) ReleaseCachedMemory() (int64, bool, error) {
	if !e.mu.TryLock() {
		e.trimAsked.Store(true)
		return 0, true, nil
	}
	defer e.mu.Unlock()
	e.trimAsked.Store(false)
	freed, err := e.model.ReleaseCachedMemory()
	return freed, false, err
}

// trimIfAsked runs, under e.mu, as a job ends: the release a request
// deferred while the job ran.
func (e *Engine) trimIfAsked() {
	if e.trimAsked.Swap(false) {
		e.model.ReleaseCachedMemory() // a device error here is the next job's to report
	}
}

// trimWhenIdle is the queue's onIdle for Config.TrimWhenIdle: nil when
// it is off or the runner holds no device memory of its own.
func (s *Server) trimWhenIdle() func() {
	mm, ok := s.cfg.Runner.(MemoryManager)
	if !s.cfg.TrimWhenIdle || !ok {
		return nil
	}
	return func() {
		freed, _, err := mm.ReleaseCachedMemory()
		if err != nil {
			s.log.Warn("releasing idle device memory", "err", err)
		} else if freed > 0 {
			s.log.Debug("released idle device memory", "bytes", freed)
		}
	}
}
