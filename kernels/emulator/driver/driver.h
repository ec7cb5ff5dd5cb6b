// Shared state of the emulated CUDA driver (libcuda.so.1 built by
// `make fake-cuda`): one fake sm_90-class device whose memory is host memory
// and whose kernels are the host builds of kernels/cuda/*.cu (registry.h).
// Work runs synchronously when it is queued, so streams are trivially in
// order and every synchronisation is only counted. Every error is printed to
// stderr, naming the call, before its code is returned: a test that sees
// the code also has the reason in its log.
#pragma once
#include <cuda.h>

#include <cstdarg>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "registry.h"

namespace fake {

// The big lock: Go calls the driver from several OS threads (package init,
// the context goroutine); the emulation has global state, so calls take turns.
extern std::recursive_mutex mu;
using Lock = std::lock_guard<std::recursive_mutex>;

// fail prints "fake libcuda: <call>: <message>" and returns code.
CUresult fail(CUresult code, const char *call, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

struct Counters {
  long launches = 0, graph_launches = 0, graph_nodes_replayed = 0;
  long allocs = 0, frees = 0, alloc_bytes = 0, live_bytes = 0, peak_bytes = 0;
  long htod = 0, htod_bytes = 0, dtoh = 0, dtoh_bytes = 0, dtod = 0, dtod_bytes = 0, memsets = 0;
  long syncs = 0, host_allocs = 0, module_loads = 0;
  std::map<std::string, long> per_kernel;
};
extern Counters counters;

struct Context {
  unsigned flags;
};
// The calling thread's current context (cuCtxCreate / cuCtxSetCurrent), as
// the real driver keeps one per thread.
extern thread_local Context *current;
extern std::set<Context *> contexts;
bool initialised();
// need_context fails with CUDA_ERROR_INVALID_CONTEXT when the calling thread
// has none: a driver call from a thread other than the one that made the
// context current is a real bug the GPU would also report.
CUresult need_context(const char *call);

// ---- device memory (memory.cpp) ----
size_t memory_limit(); // bytes the device reports and hands out
// count_only is FAKE_CUDA_EXEC=count: every call is checked and counted as
// usual, but kernels do not run, copies and memsets move nothing and memory is
// neither poisoned nor canaried, so a full-size model at full resolution can
// be walked through for its launch, copy and memory counts in seconds and
// without touching its gigabytes. Results are meaningless in this mode.
bool count_only();
// range_ok reports whether [p, p+bytes) lies inside one live allocation;
// otherwise it fails naming call, what, and why.
CUresult check_range(const char *call, const char *what, CUdeviceptr p, size_t bytes);
// is_device reports whether p points into a live allocation.
bool is_device(CUdeviceptr p);

// ---- streams, captured work (exec.cpp) ----
struct Function;
struct Op { // one piece of stream work, run now or recorded into a graph
  enum Kind { KERNEL, COPY, SET } kind;
  Function *fn = nullptr;
  dim3u grid, block;
  unsigned shared = 0;
  std::vector<uint64_t> params; // each parameter's bytes, zero-extended to 8
  void *dst = nullptr;
  const void *src = nullptr;
  size_t bytes = 0;
  uint32_t value = 0;
  unsigned elem = 1; // memset element size
};
struct Graph {
  std::vector<Op> ops;
};
struct Stream {
  unsigned flags = 0;
  Graph *capture = nullptr; // set between cuStreamBeginCapture and EndCapture
};
// submit runs op on s now, or records it when s is capturing.
CUresult submit(const char *call, CUstream s, Op op);
// stream_of resolves a handle (0 = the default stream) or fails.
CUresult stream_of(const char *call, CUstream h, Stream **out);
void run_op(const Op &op);

} // namespace fake
