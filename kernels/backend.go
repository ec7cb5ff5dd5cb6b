//go:build cuda

package kernels

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/gosdxl/gosdxl/tensor"
)

// Backend runs tensor.Backend operations on one NVIDIA GPU. Its methods may be
// called from any goroutine, one at a time; driver work happens on the
// context goroutine (worker.go).
type Backend struct {
	opts     Options
	logf     func(format string, args ...any)
	w        *worker
	ctx      cuContext
	stream   cuStream
	info     deviceInfo
	pool     *pool
	modules  map[string]cuModule
	funcs    map[Kernel]*function
	slots    []uint64 // reused argument slots (context goroutine only)
	err      error    // sticky: the first failure since the last Sync
	syncEach bool
	capture  *Graph                      // the graph being captured, if any
	families [numOpFamilies]familyKernel // the kernel each op family runs (choice.go)
	uploads  *uploader
	counts   tensor.Counters // see Counters (context goroutine only)
	work     workspace       // per-op intermediates between launches (workspace.go)
	sems     workspace       // split-K tile semaphores, zero between launches (workspace.go)
	streamk  streamkState    // the stream-K GEMM's workspace and occupancy (streamk.go)
	// tileOverride, when set (tests), replaces the tile kernels' wave
	// planner (tiles.go).
	tileOverride tilePlanner
}

var (
	_ tensor.Backend    = (*Backend)(nil)
	_ tensor.HostWriter = (*Backend)(nil)
)

var (
	availableOnce sync.Once
	available     bool
)

// Available reports whether the driver sees at least one GPU. In this build
// the driver is always there: gorgonia.org/cu initialised it before main, and
// a process without one has already exited (see driver.go).
func Available() bool {
	availableOnce.Do(func() {
		n, err := deviceCount()
		available = err == nil && n > 0
	})
	return available
}

// New creates a context and stream on opts.Device and records the kernel
// choices; each fast kernel is self-checked on its family's first use (see
// choice.go).
func New(opts Options) (*Backend, error) {
	choices, err := parseKernelChoices(opts.Kernels)
	if err != nil {
		return nil, err
	}
	b := &Backend{
		opts:     opts,
		logf:     opts.Logf,
		modules:  map[string]cuModule{},
		funcs:    map[Kernel]*function{},
		syncEach: opts.SyncEveryLaunch || os.Getenv("GOSDXL_CUDA_SYNC") == "1",
	}
	b.opts.NoGraphs = opts.NoGraphs || os.Getenv("GOSDXL_CUDA_GRAPHS") == "0"
	if b.logf == nil {
		b.logf = func(string, ...any) {}
	}
	b.w, err = startWorker(func() error {
		err := b.setup()
		if err != nil && b.ctx != (cuContext{}) {
			destroyContext(b.ctx) // e.g. a pre-sm_80 GPU: nothing else was made
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cuda: %w", err)
	}
	b.logf("cuda: %s (sm_%d%d, %d SMs, %.1f GiB)", b.info.name, b.info.major, b.info.minor,
		b.info.multiprocessors, float64(b.info.totalMem)/(1<<30))
	b.initFamilies(choices)
	return b, nil
}

// setup runs on the context goroutine.
func (b *Backend) setup() error {
	n, err := deviceCount()
	if err != nil {
		return err
	}
	if b.opts.Device < 0 || b.opts.Device >= n {
		return fmt.Errorf("device %d requested, %d CUDA devices present", b.opts.Device, n)
	}
	if b.ctx, b.info, err = createContext(b.opts.Device); err != nil {
		return err
	}
	if b.info.major < 8 {
		return fmt.Errorf("%s is sm_%d%d; gosdxl's kernels need sm_80 or newer", b.info.name, b.info.major, b.info.minor)
	}
	if b.stream, err = streamCreate(); err != nil {
		return err
	}
	b.pool = newPool(b.countedAlloc, memFree)
	b.uploads, err = newUploader()
	return err
}

// Name identifies the backend.
func (b *Backend) Name() string { return "cuda" }

// DeviceName is the GPU's marketing name, for logs and benchmark tables.
func (b *Backend) DeviceName() string { return b.info.name }

// Alloc returns an uninitialised device tensor.
func (b *Backend) Alloc(dt tensor.DType, shape ...int) *tensor.Tensor {
	s := tensor.Shape(shape)
	if dt.Size() == 0 {
		panic(fmt.Sprintf("kernels: Alloc of unknown dtype %v", dt))
	}
	for _, d := range s {
		if d < 0 {
			panic(fmt.Sprintf("kernels: Alloc with negative dimension %v", s))
		}
	}
	buf := b.scratch(s.NumElements() * dt.Size())
	b.w.do(func() { b.counts.Allocs++ })
	return tensor.New(b, dt, s, buf)
}

// FromFloat32 uploads data rounded to dt.
func (b *Backend) FromFloat32(dt tensor.DType, shape tensor.Shape, data []float32) *tensor.Tensor {
	if len(data) != shape.NumElements() {
		panic(fmt.Sprintf("kernels: FromFloat32 got %d values for shape %v", len(data), shape))
	}
	return b.FromRaw(dt, shape, tensor.EncodeFloat32(dt, data))
}

// FromRaw uploads little-endian bytes in dt's layout. raw is not retained.
// BF16 and F32 weights stay in their own type: kernels read any weight dtype.
func (b *Backend) FromRaw(dt tensor.DType, shape tensor.Shape, raw []byte) *tensor.Tensor {
	if len(raw) != shape.NumElements()*dt.Size() {
		panic(fmt.Sprintf("kernels: FromRaw got %d bytes for %v%v", len(raw), dt, shape))
	}
	t := b.Alloc(dt, shape...)
	b.upload(t, raw)
	return t
}

// WriteFloat32 copies data, rounded to dst's dtype, into dst
// (tensor.HostWriter): one host→device copy into the existing buffer, no
// allocation and no copy kernel, so a step's inputs keep their addresses.
func (b *Backend) WriteFloat32(dst *tensor.Tensor, data []float32) {
	if len(data) != dst.Shape().NumElements() {
		panic(fmt.Sprintf("kernels: WriteFloat32 got %d values for shape %v", len(data), dst.Shape()))
	}
	b.upload(dst, tensor.EncodeFloat32(dst.DType(), data))
}

// upload copies raw, laid out in t's dtype, into t's device memory.
func (b *Backend) upload(t *tensor.Tensor, raw []byte) {
	buf := b.buffer(t)
	b.w.do(func() {
		if b.err == nil && b.capture != nil {
			// A replay would copy again from host memory that is long
			// gone (and the driver refuses pageable copies in a capture):
			// the capture fails, and its caller runs the work op by op.
			b.err = fmt.Errorf("cuda: a host→device copy of %d bytes into %v inside a graph capture", len(raw), t)
			return
		}
		if b.err == nil {
			b.counts.Uploads++
			b.counts.UploadBytes += int64(len(raw))
			b.err = b.uploads.upload(buf.ptr, raw, b.stream)
		}
	})
}

// ToFloat32 waits for queued work and copies t to the host as float32. After
// a device error it returns zeros; Sync reports the error.
func (b *Backend) ToFloat32(t *tensor.Tensor) []float32 {
	buf := b.buffer(t)
	raw := make([]byte, t.NumElements()*t.DType().Size())
	b.w.do(func() {
		if b.err == nil {
			b.counts.Downloads++
			b.counts.DownloadBytes += int64(len(raw))
			b.counts.Syncs++ // copyToHost waits for the stream
			b.err = copyToHost(raw, buf.ptr, b.stream)
		}
	})
	return tensor.DecodeFloat32(t.DType(), raw)
}

// Free returns t's storage to the pool. Views made by Reshape share it: free
// one of them only.
func (b *Backend) Free(t *tensor.Tensor) { b.release(b.buffer(t)) }

// Sync waits for all queued work and returns the first error since the last
// Sync, clearing it.
func (b *Backend) Sync() error {
	var err error
	b.w.do(func() {
		if b.err == nil && b.capture == nil {
			b.err = b.syncStream()
		}
		err, b.err = b.err, nil
	})
	return err
}

// Close releases the stream, the context and all device memory. The backend
// and its tensors must not be used afterwards.
func (b *Backend) Close() error {
	var errs []error
	b.logf("cuda: %v", b.Stats())
	b.w.stop(func() {
		errs = append(errs, streamSync(b.stream), b.dropWorkspace())
		_, err := b.pool.releaseIdle()
		errs = append(errs, err)
		errs = append(errs, b.uploads.close())
		for _, m := range b.modules {
			errs = append(errs, moduleUnload(m))
		}
		errs = append(errs, streamDestroy(b.stream), destroyContext(b.ctx))
	})
	return errors.Join(errs...)
}

// fill sets every byte of t to v (tests poison outputs with 0xff: NaN in
// every float type).
func (b *Backend) fill(t *tensor.Tensor, v byte) {
	buf := b.buffer(t)
	b.w.do(func() {
		if b.err == nil {
			b.err = memsetBytes(buf.ptr, v, t.NumElements()*t.DType().Size(), b.stream)
		}
	})
}
