//go:build cuda

package kernels

// The CUDA driver API as the backend uses it, through gorgonia.org/cu: device
// queries, the context, memory, copies, streams, events, modules and kernel
// launches. The few calls cu does not offer are in driver_cgo.go.
//
// cu calls cuInit in its init function and exits the process (status 1, with
// a message) when that fails. A binary built with the cuda tag therefore only
// starts on a machine with the NVIDIA driver and a GPU, or with the emulated
// driver first on LD_LIBRARY_PATH (kernels/emulator/driver); without the tag,
// gosdxl runs on the CPU and New returns ErrNoCUDA.
//
// We use cu's plain functions, not its Ctx worker: our own context goroutine
// (worker.go) locks its OS thread and makes the context current there, and
// every function here must run on it.

import (
	"fmt"
	"unsafe"

	"gorgonia.org/cu"
)

type (
	cuContext  = cu.CUContext
	cuStream   = cu.Stream
	cuEvent    = cu.Event
	cuModule   = cu.Module
	cuFunction = cu.Function
	cuGraph    = cu.Graph
	cuGraphEx  = cu.ExecGraph
)

// driverFailed wraps err, a driver error value, with the call that failed.
func driverFailed(call string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", call, err)
}

// deviceInfo describes the selected GPU for logs and the self-check.
type deviceInfo struct {
	name            string
	major, minor    int
	totalMem        int64
	maxSharedOptin  int
	multiprocessors int
}

func deviceCount() (int, error) {
	n, err := cu.NumDevices()
	return n, driverFailed("cuDeviceGetCount", err)
}

// createContext creates a context on device ordinal and makes it current on
// the calling (locked) thread.
func createContext(ordinal int) (cuContext, deviceInfo, error) {
	var info deviceInfo
	dev, err := cu.GetDevice(ordinal)
	if err != nil {
		return cuContext{}, info, driverFailed("cuDeviceGet", err)
	}
	if info.name, err = dev.Name(); err != nil {
		return cuContext{}, info, driverFailed("cuDeviceGetName", err)
	}
	for _, a := range []struct {
		attr cu.DeviceAttribute
		dst  *int
	}{
		{cu.ComputeCapabilityMajor, &info.major},
		{cu.ComputeCapabilityMinor, &info.minor},
		{attrMaxSharedOptin, &info.maxSharedOptin},
		{cu.MultiprocessorCount, &info.multiprocessors},
	} {
		if *a.dst, err = dev.Attribute(a.attr); err != nil {
			return cuContext{}, info, driverFailed(fmt.Sprintf("cuDeviceGetAttribute(%d)", int(a.attr)), err)
		}
	}
	if info.totalMem, err = dev.TotalMem(); err != nil {
		return cuContext{}, info, driverFailed("cuDeviceTotalMem", err)
	}
	ctx, err := dev.MakeContext(cu.SchedBlockingSync)
	return ctx, info, driverFailed("cuCtxCreate", err)
}

func destroyContext(ctx cuContext) error { return driverFailed("cuCtxDestroy", ctx.Destroy()) }

func memAlloc(bytes int) (devicePtr, error) {
	p, err := cu.MemAlloc(int64(bytes))
	return devicePtr(p), driverFailed("cuMemAlloc", err)
}

func memFree(p devicePtr) error { return driverFailed("cuMemFree", cu.MemFree(cu.DevicePtr(p))) }

// copyToDevice queues a host-to-device copy. For pageable host memory the
// driver has staged the bytes when it returns, so src may be reused at once;
// from pinned memory (upload.go) the copy really is asynchronous.
func copyToDevice(dst devicePtr, src []byte, s cuStream) error {
	if len(src) == 0 {
		return nil
	}
	err := cu.MemcpyHtoDAsync(cu.DevicePtr(dst), unsafe.Pointer(&src[0]), int64(len(src)), s)
	return driverFailed("cuMemcpyHtoDAsync", err)
}

// copyToHost copies device bytes into dst and waits for the stream, so dst
// is complete (and no longer written by the driver) when it returns.
func copyToHost(dst []byte, src devicePtr, s cuStream) error {
	if len(dst) == 0 {
		return nil
	}
	err := cu.MemcpyDtoHAsync(unsafe.Pointer(&dst[0]), cu.DevicePtr(src), int64(len(dst)), s)
	if err != nil {
		return driverFailed("cuMemcpyDtoHAsync", err)
	}
	return streamSync(s)
}

func memsetBytes(dst devicePtr, value byte, bytes int, s cuStream) error {
	return driverFailed("cuMemsetD8Async", cu.MemsetD8Async(cu.DevicePtr(dst), value, int64(bytes), s))
}

func streamCreate() (cuStream, error) {
	s, err := cu.MakeStream(cu.NonBlocking)
	return s, driverFailed("cuStreamCreate", err)
}

func streamSync(s cuStream) error { return driverFailed("cuStreamSynchronize", s.Synchronize()) }

func streamDestroy(s cuStream) error { return driverFailed("cuStreamDestroy", s.Destroy()) }

func eventCreate() (cuEvent, error) {
	e, err := cu.MakeEvent(cu.DefaultEvent)
	return e, driverFailed("cuEventCreate", err)
}

func eventRecord(e cuEvent, s cuStream) error { return driverFailed("cuEventRecord", e.Record(s)) }

func eventSync(e cuEvent) error { return driverFailed("cuEventSynchronize", e.Synchronize()) }

// eventDone reports whether the work before e's record has finished,
// without waiting (cuEventQuery: CUDA_ERROR_NOT_READY means not yet).
func eventDone(e cuEvent) (bool, error) {
	switch err := e.Query(); err {
	case nil:
		return true, nil
	case cu.NotReady:
		return false, nil
	default:
		return false, driverFailed("cuEventQuery", err)
	}
}

func eventDestroy(e cuEvent) error { return driverFailed("cuEventDestroy", cu.DestroyEvent(&e)) }

// eventElapsed is the time between two recorded events in milliseconds.
func eventElapsed(start, end cuEvent) (float32, error) {
	ms, err := start.Elapsed(end)
	return float32(ms), driverFailed("cuEventElapsedTime", err)
}

// moduleLoad JIT-compiles PTX text for the current device. On failure the
// error carries the JIT compiler's log.
func moduleLoad(ptx []byte) (cuModule, error) {
	log, freeLog := cBuffer(4 << 10)
	defer freeLog()
	if log == nil { // no memory for the log: load without one
		m, err := cu.LoadData(string(ptx))
		return m, driverFailed("cuModuleLoadData", err)
	}
	m, err := cu.LoadDataEx(string(ptx), &cu.JITErrorLogBuffer{Buffer: log})
	if err != nil {
		return m, fmt.Errorf("cuModuleLoadDataEx: %w%s", err, jitLog(log))
	}
	return m, nil
}

// jitLog is the NUL-terminated text the JIT wrote into log, as ": text".
func jitLog(log []byte) string {
	for i, c := range log {
		if c == 0 {
			log = log[:i]
			break
		}
	}
	if len(log) == 0 {
		return ""
	}
	return ": " + string(log)
}

func moduleFunction(m cuModule, name string) (cuFunction, error) {
	f, err := m.Function(name)
	return f, driverFailed("cuModuleGetFunction", err)
}

func moduleUnload(m cuModule) error { return driverFailed("cuModuleUnload", m.Unload()) }

// launchKernel launches f with one 8-byte slot per kernel parameter (see
// boxArgs); the driver reads each parameter's own size from the start of its
// slot. cu's Launch reads *params[i] in Go and copies the values, and the
// pointer array to them, into C memory before calling cuLaunchKernel, so no
// Go memory reaches C and the cgo pointer rules hold; params keeps slots
// alive until then, and Go never moves heap memory.
func launchKernel(f cuFunction, grid, block Dim3, shared int, s cuStream, slots []uint64) error {
	params := make([]unsafe.Pointer, len(slots))
	for i := range slots {
		params[i] = unsafe.Pointer(&slots[i])
	}
	err := f.Launch(grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, shared, s, params)
	return driverFailed("cuLaunchKernel", err)
}

func graphDestroy(g cuGraph) error { return driverFailed("cuGraphDestroy", g.Destroy()) }

func graphExecDestroy(ex cuGraphEx) error {
	return driverFailed("cuGraphExecDestroy", ex.Destroy())
}

// hostFreePinned frees memory from hostAllocPinned (driver_cgo.go).
func hostFreePinned(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return driverFailed("cuMemFreeHost", cu.MemFreeHost(unsafe.Pointer(&b[0])))
}
