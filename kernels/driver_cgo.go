//go:build cuda

package kernels

// Our own cgo, only for what gorgonia.org/cu v0.9.6 does not offer:
//
//   - cuFuncSetAttribute (and the device attribute for its limit, which cu
//     has no constant for): kernels that use more than 48 KiB of dynamic
//     shared memory must opt in per function.
//   - cuStreamBeginCapture/EndCapture, cuGraphInstantiateWithFlags and
//     cuGraphLaunch: cu can build graphs node by node and destroy them, but
//     cannot capture a stream into one, instantiate or launch it. Destroying
//     goes through cu (driver.go).
//   - cuMemHostAlloc: cu can free pinned host memory (cuMemFreeHost, used in
//     driver.go) but not allocate it.
//   - calloc/free of a small buffer the driver writes the JIT log into
//     (moduleLoad): it must be C memory, because cu passes its address
//     inside a Go array, where cgo forbids Go pointers.
//
// cgo types belong to the package that declares them, so cu's C.CUstream is
// not ours. Handles cross over by unsafe conversion; each is checked below.

/*
#cgo LDFLAGS: -lcuda
#include <cuda.h>
#include <stdlib.h>
*/
import "C"

import (
	"reflect"
	"unsafe"

	"gorgonia.org/cu"
)

// attrMaxSharedOptin is the most dynamic shared memory a block may opt into.
const attrMaxSharedOptin = cu.DeviceAttribute(C.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)

// cu.Function, cu.Graph and cu.ExecGraph are each a struct of exactly one C
// handle (unexported field), so their memory is that handle's. These
// constants fail to compile (a negative uintptr) if the sizes ever differ.
const (
	_ = unsafe.Sizeof(cu.Function{}) - unsafe.Sizeof(C.CUfunction(nil))
	_ = unsafe.Sizeof(C.CUfunction(nil)) - unsafe.Sizeof(cu.Function{})
	_ = unsafe.Sizeof(cu.Graph{}) - unsafe.Sizeof(C.CUgraph(nil))
	_ = unsafe.Sizeof(C.CUgraph(nil)) - unsafe.Sizeof(cu.Graph{})
	_ = unsafe.Sizeof(cu.ExecGraph{}) - unsafe.Sizeof(C.CUgraphExec(nil))
	_ = unsafe.Sizeof(C.CUgraphExec(nil)) - unsafe.Sizeof(cu.ExecGraph{})
)

// cStream is s's handle. cu exports it (Stream.C) but as cu's own cgo type:
// both are the same CUstream pointer, converted through unsafe.Pointer.
func cStream(s cuStream) C.CUstream { return C.CUstream(unsafe.Pointer(s.C())) }

// cFunction reads the C handle inside a cu.Function (see the size checks).
func cFunction(f cuFunction) C.CUfunction { return *(*C.CUfunction)(unsafe.Pointer(&f)) }

// cGraph and cGraphExec read the C handles inside cu's graph types;
// asGraph and asGraphExec wrap C handles into them (see the size checks).
func cGraph(g cuGraph) C.CUgraph             { return *(*C.CUgraph)(unsafe.Pointer(&g)) }
func cGraphExec(ex cuGraphEx) C.CUgraphExec  { return *(*C.CUgraphExec)(unsafe.Pointer(&ex)) }
func asGraph(g C.CUgraph) cuGraph            { return *(*cuGraph)(unsafe.Pointer(&g)) }
func asGraphExec(ex C.CUgraphExec) cuGraphEx { return *(*cuGraphEx)(unsafe.Pointer(&ex)) }

// check turns a result of our own calls into cu's error value for it, so
// every driver error, whichever binding made the call, has the same type and
// text and can be compared with cu's constants (errors.Is(err, cu.OutOfMemory)).
// cu's error type is unexported, hence reflect.
func check(call string, r C.CUresult) error {
	if r == C.CUDA_SUCCESS {
		return nil
	}
	v := reflect.New(reflect.TypeOf(cu.Success)).Elem()
	v.SetInt(int64(r))
	return driverFailed(call, v.Interface().(error))
}

// funcSetMaxDynamicShared lets f use more than the default 48 KiB of dynamic
// shared memory per block.
func funcSetMaxDynamicShared(f cuFunction, bytes int) error {
	return check("cuFuncSetAttribute", C.cuFuncSetAttribute(cFunction(f),
		C.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, C.int(bytes)))
}

// captureBegin starts recording s into a graph. Relaxed mode, because the
// pool may cuMemAlloc a new scratch block while a step is being captured,
// which the stricter modes forbid on the capturing thread.
func captureBegin(s cuStream) error {
	return check("cuStreamBeginCapture", C.cuStreamBeginCapture(cStream(s), C.CU_STREAM_CAPTURE_MODE_RELAXED))
}

func captureEnd(s cuStream) (cuGraph, error) {
	var g C.CUgraph
	err := check("cuStreamEndCapture", C.cuStreamEndCapture(cStream(s), &g))
	return asGraph(g), err
}

// graphInstantiate uses the WithFlags entry point, whose signature is the same
// in the CUDA 11.4+ and 12.x headers (plain cuGraphInstantiate changed).
func graphInstantiate(g cuGraph) (cuGraphEx, error) {
	var ex C.CUgraphExec
	err := check("cuGraphInstantiateWithFlags", C.cuGraphInstantiateWithFlags(&ex, cGraph(g), 0))
	return asGraphExec(ex), err
}

func graphLaunch(ex cuGraphEx, s cuStream) error {
	return check("cuGraphLaunch", C.cuGraphLaunch(cGraphExec(ex), cStream(s)))
}

// hostAllocPinned returns page-locked host memory, which the GPU can copy
// from asynchronously at full bus speed. Free it with hostFreePinned.
func hostAllocPinned(bytes int) ([]byte, error) {
	var p unsafe.Pointer
	if err := check("cuMemHostAlloc", C.cuMemHostAlloc(&p, C.size_t(bytes), 0)); err != nil {
		return nil, err
	}
	return unsafe.Slice((*byte)(p), bytes), nil
}

// cBuffer returns n zeroed bytes of C memory and the function that frees them.
func cBuffer(n int) ([]byte, func()) {
	p := C.calloc(C.size_t(n), 1)
	if p == nil {
		return nil, func() {}
	}
	return unsafe.Slice((*byte)(p), n), func() { C.free(p) }
}
