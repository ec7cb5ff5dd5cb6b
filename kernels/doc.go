// Package kernels is gosdxl's CUDA backend: tensor.Backend on an NVIDIA GPU
// (sm_80 or newer), with hand-written kernels launched through the driver API.
//
// Everything that touches the driver is behind the `cuda` build tag. Without
// it, New returns ErrNoCUDA and Available reports false, so the rest of gosdxl
// builds and tests on machines with no GPU or toolkit, and runs on the CPU.
//
// The driver API is reached through gorgonia.org/cu, which initialises the
// driver in its init function and exits the process (status 1) when that
// fails. So a binary built with -tags cuda needs libcuda.so.1 to load and a
// GPU to start at all: it cannot fall back to the CPU. Build without the tag
// for machines that may have no GPU.
//
// # Layout
//
//   - cuda/*.cu: kernels, one file per op family, extern "C" with dtype
//     suffixes (layernorm_f16_f16: activation type, then parameter type),
//     sharing cuda/common.cuh. simple_*.cu hold the plain reference kernels of
//     the heavy ops (linear, conv2d, attention); gemm*, conv*, attention*.cu
//     hold the fast tensor-core versions.
//   - ptx/*.ptx: committed output of `make ptx` (nvcc -ptx -arch=compute_80),
//     each starting with the sha256 of its sources; a test fails when they
//     drift, and `make kernels-check` assembles them for sm_80/sm_90 and
//     rejects register spills and stack frames. They are embedded and each
//     module is JIT-loaded the first time one of its kernels launches.
//   - Go files: driver.go (the driver calls, through gorgonia.org/cu),
//     driver_cgo.go (our cgo for the few calls cu lacks: per-function
//     shared-memory limit, stream capture and graph launch, pinned host
//     allocation), worker.go (the context goroutine), graph.go (captured graphs),
//     pool.go (allocator), launch.go, backend.go and ops_*.go (the Backend),
//     dispatch.go (fast-or-simple choice and the start-up self-check).
//
// # Threading
//
// A CUDA context is current on one OS thread, so the backend owns a goroutine
// that called runtime.LockOSThread and runs every driver call; methods hand it
// closures. Backend methods may be called from any goroutine, but one at a
// time (the backend is not meant for concurrent use; calls serialise).
//
// # Writing a launcher (the API for kernel files)
//
// A launcher is a Go function in this package that checks its case, computes
// the grid and calls Launch:
//
//		b.Launch(Kernel{Module: "norm", Name: "layernorm_f16_f16"},
//			D1(rows), D1(256), sharedBytes, dst, x, gamma, beta, rows, cols, eps)
//
//	  - Kernel{Module, Name}: Module is the .cu file's base name (ptx/<Module>.ptx).
//	  - Every argument takes one 8-byte slot: *tensor.Tensor (its device
//	    address), devicePtr, int (must fit the kernel's int32), int32, uint32,
//	    float32, int64, uint64, bool. The kernel's parameter list must match.
//	  - sharedBytes above 48 KiB is allowed: Launch raises the kernel's limit
//	    with cuFuncSetAttribute once (up to the device's opt-in maximum).
//	  - Errors are sticky and name the kernel; after one, launches are no-ops
//	    and Sync returns it. GOSDXL_CUDA_SYNC=1 synchronises after each launch.
//	  - Scratch memory: buf := b.scratch(bytes), pass buf.ptr, then
//	    b.release(buf) right after the launches: the pool reuses blocks in
//	    stream order, so this is safe, and at steady state no cuMemAlloc runs.
//
// Fast implementations register themselves in an init function by setting
// fastLinear, fastConv2D or fastAttention (dispatch.go). They return false for
// cases they do not handle (dtype, alignment, size), and the simple kernel
// runs instead. New self-checks each registered fast op against the simple one
// on small random cases and, in auto mode, falls back (with a log line) when
// they disagree.
//
// # Choosing kernels
//
// Options.Kernels or GOSDXL_KERNELS: "simple" (reference kernels only),
// "fast" (fast wherever present, even if the self-check disagrees, for
// debugging them), "auto" (default), or per op: "linear=simple,attention=fast".
//
// # Precision
//
// Activations are F16 by default; F32 and BF16 activations are supported by
// every op (the SDXL VAE overflows in F16). Weights keep their checkpoint type
// (F16, BF16 or F32; nothing is converted at upload) and kernels are
// instantiated for each activation × weight type pair. Arithmetic
// accumulates in float32; norm statistics and softmax are float32.
package kernels
