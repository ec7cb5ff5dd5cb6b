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
//   - ptx/*.ptx.gz: committed output of `make ptx` (nvcc -ptx
//     -arch=compute_80, gzipped to keep the checkout small; read one with
//     gzip -dc), each PTX starting with the sha256 of its sources; a test
//     fails when they drift, and `make kernels-check` assembles them for
//     sm_80/sm_90 and rejects register spills and stack frames. They are
//     embedded, and each module is decompressed and JIT-loaded the first time
//     one of its kernels launches.
//   - Go, one file per op family (tagged cuda) holding its Backend methods,
//     its launchers and, for a family with a fast kernel, the cases its
//     self-check compares on, beside an untagged <family>_plan.go with the
//     fast kernel's argument checks and grid (unit-tested without a GPU):
//     linear.go (Linear, LinearFused; gemm.cu, simple_linear.cu) with
//     linear_geglu.go (LinearGEGLU; gemm.cu, planned in geglu_plan.go),
//     conv.go (Conv2D, Conv2DResidual; conv.cu, simple_conv.cu) with
//     conv_fused.go (Conv2DFused: inputs read where they lie; conv.cu),
//     attention.go (Attention; attention.cu, simple_attention.cu),
//     norm.go (GroupNorm, LayerNorm; norm.cu) and elementwise.go (Unary,
//     GEGLU, Binary, ResizeNearest, Concat, Slice, Cast, Gather;
//     elementwise.cu). plan.go and tile_plan.go hold what the planners
//     share, check.go the argument checks every op makes.
//   - Go, the runtime: backend.go (New, memory and copies), launch.go (Launch
//     and the launchers' shared helpers), types.go and args.go (grid sizes,
//     argument slots), modules.go (embedded PTX, kernel lookup), choice.go
//     (which kernel each family runs, and the self-check), options.go
//     (Options and the kernel choices, untagged), driver.go (the driver
//     calls, through gorgonia.org/cu), driver_cgo.go (our cgo for the few
//     calls cu lacks: per-function shared-memory limit, stream capture and
//     graph launch, pinned host allocation), worker.go (the context
//     goroutine), graph.go (captured graphs), pool.go (allocator),
//     storage.go (tensor storage), upload.go (staged uploads), counters.go,
//     timing.go; stub.go is the build without the tag.
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
//	  - Kernel{Module, Name}: Module is the .cu file's base name (ptx/<Module>.ptx.gz).
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
//	    Small intermediates that would otherwise be taken per call (GroupNorm's
//	    partial statistics) use b.workspace(bytes) instead: one block the
//	    backend keeps, so a captured step allocates nothing and its graph
//	    keeps a valid address (workspace.go).
//
// # Adding an op
//
// An op without a fast kernel is a Backend method in its family's file (or a
// new one) that checks its arguments and calls Launch. An op family with a
// fast kernel adds a value to opFamily (options.go, with its name for
// Options.Kernels), and in its file: the method, which asks
// b.useFast(family) and then calls its fast launcher directly; the simple
// launcher, which takes every case; the fast launcher, which plans the case
// in <family>_plan.go and returns false for one it does not handle (dtype,
// alignment, size), so that the simple kernel runs; and its self-check
// cases, listed in checkCases (choice.go).
//
// The self-check runs the first time a family is used, not in New: the fast
// kernel is compared with the simple one on small random cases and, in auto
// mode, dropped (with a log line) when they disagree. Capture settles every
// family first, since the check synchronises.
//
// # Choosing kernels
//
// Options.Kernels or GOSDXL_KERNELS: "simple" (reference kernels only),
// "fast" (fast wherever present, even if the self-check disagrees, for
// debugging them), "auto" (default), or per family (linear, conv2d,
// attention): "linear=simple,attention=fast".
//
// # Precision
//
// Activations are F16 by default; F32 and BF16 activations are supported by
// every op (the SDXL VAE overflows in F16). Weights keep their checkpoint type
// (F16, BF16 or F32; nothing is converted at upload) and kernels are
// instantiated for each activation × weight type pair. Arithmetic
// accumulates in float32; norm statistics and softmax are float32.
package kernels
