//go:build cuda

package kernels

// Thin cgo bindings to the CUDA driver API: only what the backend uses.
//
// gosdxl binds the driver itself instead of going through gorgonia.org/cu:
// that package calls cuInit in an init function and exits the process when it
// fails, so a cuda-tagged binary could not even report "no GPU here" or fall
// back to the CPU. It also lacks cuFuncSetAttribute, stream capture, graph
// launch and pinned host memory, which we need.
//
// Every function here must run on the context goroutine (see worker.go).

/*
#cgo LDFLAGS: -lcuda
#include <cuda.h>
#include <stdint.h>

// launch expands 8-byte argument slots into the void** array cuLaunchKernel
// wants; the driver reads each parameter's own size from the start of its slot.
static CUresult gosdxl_launch(CUfunction f, unsigned gx, unsigned gy, unsigned gz,
		unsigned bx, unsigned by, unsigned bz, unsigned shared, CUstream s,
		uint64_t *slots, int n) {
	void *params[64];
	if (n > 64) return CUDA_ERROR_INVALID_VALUE;
	for (int i = 0; i < n; i++) params[i] = &slots[i];
	return cuLaunchKernel(f, gx, gy, gz, bx, by, bz, shared, s, params, NULL);
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// driverError is a failed driver call: the call and CUDA's name for the code.
type driverError struct {
	call string
	code C.CUresult
}

func (e *driverError) Error() string {
	var name *C.char
	if C.cuGetErrorName(e.code, &name) != C.CUDA_SUCCESS || name == nil {
		return fmt.Sprintf("%s: CUDA error %d", e.call, int(e.code))
	}
	return fmt.Sprintf("%s: %s", e.call, C.GoString(name))
}

func check(call string, r C.CUresult) error {
	if r == C.CUDA_SUCCESS {
		return nil
	}
	return &driverError{call: call, code: r}
}

type (
	cuContext  = C.CUcontext
	cuStream   = C.CUstream
	cuEvent    = C.CUevent
	cuModule   = C.CUmodule
	cuFunction = C.CUfunction
	cuGraph    = C.CUgraph
	cuGraphEx  = C.CUgraphExec
)

// deviceInfo describes the selected GPU for logs and the self-check.
type deviceInfo struct {
	name            string
	major, minor    int
	totalMem        int64
	maxSharedOptin  int
	multiprocessors int
}

func driverInit() error { return check("cuInit", C.cuInit(0)) }

func deviceCount() (int, error) {
	var n C.int
	err := check("cuDeviceGetCount", C.cuDeviceGetCount(&n))
	return int(n), err
}

func createContext(ordinal int) (cuContext, deviceInfo, error) {
	var dev C.CUdevice
	var info deviceInfo
	if err := check("cuDeviceGet", C.cuDeviceGet(&dev, C.int(ordinal))); err != nil {
		return nil, info, err
	}
	var name [256]C.char
	if err := check("cuDeviceGetName", C.cuDeviceGetName(&name[0], 256, dev)); err != nil {
		return nil, info, err
	}
	info.name = C.GoString(&name[0])
	attr := func(a C.CUdevice_attribute) int {
		var v C.int
		C.cuDeviceGetAttribute(&v, a, dev)
		return int(v)
	}
	info.major = attr(C.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
	info.minor = attr(C.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)
	info.maxSharedOptin = attr(C.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)
	info.multiprocessors = attr(C.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)
	var total C.size_t
	if err := check("cuDeviceTotalMem", C.cuDeviceTotalMem(&total, dev)); err != nil {
		return nil, info, err
	}
	info.totalMem = int64(total)
	var ctx C.CUcontext
	err := check("cuCtxCreate", C.cuCtxCreate(&ctx, C.CU_CTX_SCHED_BLOCKING_SYNC, dev))
	return ctx, info, err
}

func destroyContext(ctx cuContext) error { return check("cuCtxDestroy", C.cuCtxDestroy(ctx)) }

func memAlloc(bytes int) (devicePtr, error) {
	var p C.CUdeviceptr
	err := check("cuMemAlloc", C.cuMemAlloc(&p, C.size_t(bytes)))
	return devicePtr(p), err
}

func memFree(p devicePtr) error { return check("cuMemFree", C.cuMemFree(C.CUdeviceptr(p))) }

func memInfo() (free, total int64, err error) {
	var f, t C.size_t
	err = check("cuMemGetInfo", C.cuMemGetInfo(&f, &t))
	return int64(f), int64(t), err
}

// copyToDevice queues a host-to-device copy. For pageable host memory the
// driver has staged the bytes when it returns, so src may be reused at once.
func copyToDevice(dst devicePtr, src []byte, s cuStream) error {
	if len(src) == 0 {
		return nil
	}
	return check("cuMemcpyHtoDAsync", C.cuMemcpyHtoDAsync(C.CUdeviceptr(dst), unsafe.Pointer(&src[0]), C.size_t(len(src)), s))
}

// copyToHost copies device bytes into dst and waits for the stream.
func copyToHost(dst []byte, src devicePtr, s cuStream) error {
	if len(dst) == 0 {
		return nil
	}
	if err := check("cuMemcpyDtoHAsync", C.cuMemcpyDtoHAsync(unsafe.Pointer(&dst[0]), C.CUdeviceptr(src), C.size_t(len(dst)), s)); err != nil {
		return err
	}
	return streamSync(s)
}

func copyDevice(dst, src devicePtr, bytes int, s cuStream) error {
	return check("cuMemcpyDtoDAsync", C.cuMemcpyDtoDAsync(C.CUdeviceptr(dst), C.CUdeviceptr(src), C.size_t(bytes), s))
}

func memsetBytes(dst devicePtr, value byte, bytes int, s cuStream) error {
	return check("cuMemsetD8Async", C.cuMemsetD8Async(C.CUdeviceptr(dst), C.uchar(value), C.size_t(bytes), s))
}

func streamCreate() (cuStream, error) {
	var s C.CUstream
	err := check("cuStreamCreate", C.cuStreamCreate(&s, C.CU_STREAM_NON_BLOCKING))
	return s, err
}

func streamSync(s cuStream) error { return check("cuStreamSynchronize", C.cuStreamSynchronize(s)) }

func streamDestroy(s cuStream) error { return check("cuStreamDestroy", C.cuStreamDestroy(s)) }

func eventCreate() (cuEvent, error) {
	var e C.CUevent
	err := check("cuEventCreate", C.cuEventCreate(&e, C.CU_EVENT_DEFAULT))
	return e, err
}

func eventRecord(e cuEvent, s cuStream) error { return check("cuEventRecord", C.cuEventRecord(e, s)) }

func eventSync(e cuEvent) error { return check("cuEventSynchronize", C.cuEventSynchronize(e)) }

func eventDestroy(e cuEvent) error { return check("cuEventDestroy", C.cuEventDestroy(e)) }

// eventElapsed is the time between two recorded events in milliseconds.
func eventElapsed(start, end cuEvent) (float32, error) {
	var ms C.float
	err := check("cuEventElapsedTime", C.cuEventElapsedTime(&ms, start, end))
	return float32(ms), err
}

// moduleLoad JIT-compiles PTX text for the current device.
func moduleLoad(ptx []byte) (cuModule, error) {
	text := C.CString(string(ptx))
	defer C.free(unsafe.Pointer(text))
	var m C.CUmodule
	err := check("cuModuleLoadData", C.cuModuleLoadData(&m, unsafe.Pointer(text)))
	return m, err
}

func moduleFunction(m cuModule, name string) (cuFunction, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var f C.CUfunction
	err := check("cuModuleGetFunction", C.cuModuleGetFunction(&f, m, cname))
	return f, err
}

func moduleUnload(m cuModule) error { return check("cuModuleUnload", C.cuModuleUnload(m)) }

// funcSetMaxDynamicShared lets f use more than the default 48 KiB of dynamic
// shared memory per block.
func funcSetMaxDynamicShared(f cuFunction, bytes int) error {
	return check("cuFuncSetAttribute", C.cuFuncSetAttribute(f, C.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, C.int(bytes)))
}

func launchKernel(f cuFunction, grid, block Dim3, shared int, s cuStream, slots []uint64) error {
	var p *C.uint64_t
	if len(slots) > 0 {
		p = (*C.uint64_t)(unsafe.Pointer(&slots[0]))
	}
	return check("cuLaunchKernel", C.gosdxl_launch(f,
		C.uint(grid.X), C.uint(grid.Y), C.uint(grid.Z),
		C.uint(block.X), C.uint(block.Y), C.uint(block.Z),
		C.uint(shared), s, p, C.int(len(slots))))
}

// captureBegin starts recording s into a graph. Relaxed mode, because the
// pool may cuMemAlloc a new scratch block while a step is being captured,
// which the stricter modes forbid on the capturing thread.
func captureBegin(s cuStream) error {
	return check("cuStreamBeginCapture", C.cuStreamBeginCapture(s, C.CU_STREAM_CAPTURE_MODE_RELAXED))
}

func captureEnd(s cuStream) (cuGraph, error) {
	var g C.CUgraph
	err := check("cuStreamEndCapture", C.cuStreamEndCapture(s, &g))
	return g, err
}

// graphInstantiate uses the WithFlags entry point, whose signature is the same
// in the CUDA 11.4+ and 12.x headers (plain cuGraphInstantiate changed).
func graphInstantiate(g cuGraph) (cuGraphEx, error) {
	var ex C.CUgraphExec
	err := check("cuGraphInstantiateWithFlags", C.cuGraphInstantiateWithFlags(&ex, g, 0))
	return ex, err
}

func graphLaunch(ex cuGraphEx, s cuStream) error {
	return check("cuGraphLaunch", C.cuGraphLaunch(ex, s))
}

func graphDestroy(g cuGraph) error { return check("cuGraphDestroy", C.cuGraphDestroy(g)) }

func graphExecDestroy(ex cuGraphEx) error {
	return check("cuGraphExecDestroy", C.cuGraphExecDestroy(ex))
}

// hostAllocPinned returns page-locked host memory, which the GPU can copy
// from asynchronously at full bus speed.
func hostAllocPinned(bytes int) ([]byte, error) {
	var p unsafe.Pointer
	if err := check("cuMemHostAlloc", C.cuMemHostAlloc(&p, C.size_t(bytes), 0)); err != nil {
		return nil, err
	}
	return unsafe.Slice((*byte)(p), bytes), nil
}

func hostFreePinned(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return check("cuMemFreeHost", C.cuMemFreeHost(unsafe.Pointer(&b[0])))
}
