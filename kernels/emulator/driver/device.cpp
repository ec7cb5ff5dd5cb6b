// cuInit, the one fake device, contexts, and the counters printed at exit.
#include "driver.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace fake {

std::recursive_mutex mu;
Counters counters;
thread_local Context *current;
std::set<Context *> contexts;
static bool init_done;

bool initialised() { return init_done; }

CUresult fail(CUresult code, const char *call, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "fake libcuda: %s: ", call);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return code;
}

CUresult need_context(const char *call) {
  if (!init_done) return fail(CUDA_ERROR_NOT_INITIALIZED, call, "cuInit has not been called");
  if (!current) return fail(CUDA_ERROR_INVALID_CONTEXT, call, "no context is current on this thread");
  return CUDA_SUCCESS;
}

// Printed at exit when FAKE_CUDA_STATS is set: what a run cost in driver
// terms, for comparing runs without a GPU.
static void print_counters() {
  static bool printed;
  const char *v = getenv("FAKE_CUDA_STATS");
  if (printed || !v || !*v || !strcmp(v, "0")) return;
  printed = true;
  Counters &c = counters;
  fprintf(stderr,
          "fake libcuda: %ld launches (%ld graph launches replaying %ld nodes), %ld module loads\n"
          "fake libcuda: %ld cuMemAlloc (%ld bytes, peak live %ld), %ld cuMemFree, %ld pinned host allocations\n"
          "fake libcuda: %ld HtoD copies (%ld bytes), %ld DtoH (%ld bytes), %ld DtoD (%ld bytes), %ld memsets\n"
          "fake libcuda: %ld synchronisations\n",
          c.launches, c.graph_launches, c.graph_nodes_replayed, c.module_loads, c.allocs, c.alloc_bytes,
          c.peak_bytes, c.frees, c.host_allocs, c.htod, c.htod_bytes, c.dtoh, c.dtoh_bytes, c.dtod, c.dtod_bytes,
          c.memsets, c.syncs);
  if (!strcmp(v, "kernels"))
    for (auto &[name, n] : c.per_kernel) fprintf(stderr, "fake libcuda: %8ld %s\n", n, name.c_str());
}

} // namespace fake

using namespace fake;

// The device: an sm_90-class part with the limits the planners read.
static const char *DEVICE_NAME = "gosdxl emulated GPU";
// The memory it reports, and will hand out: FAKE_CUDA_MEMORY_GIB (default
// 16), so out-of-memory paths can be tested with a small value.
static size_t total_mem() {
  const char *v = getenv("FAKE_CUDA_MEMORY_GIB");
  double gib = v ? atof(v) : 16;
  return size_t(gib * (1 << 30));
}
size_t fake::memory_limit() {
  static size_t n = total_mem();
  return n;
}
bool fake::count_only() {
  static const bool on = [] {
    const char *v = getenv("FAKE_CUDA_EXEC");
    return v && !strcmp(v, "count");
  }();
  return on;
}

static int attribute(CUdevice_attribute a, bool *ok) {
  *ok = true;
  switch (a) {
  case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: return 1024;
  case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X: return 1024;
  case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y: return 1024;
  case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z: return 64;
  case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X: return 2147483647;
  case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y: return 65535;
  case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z: return 65535;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK: return 49152;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: return 232448;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR: return 233472;
  case CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY: return 65536;
  case CU_DEVICE_ATTRIBUTE_WARP_SIZE: return 32;
  case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK: return 65536;
  case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR: return 65536;
  case CU_DEVICE_ATTRIBUTE_CLOCK_RATE: return 1980000;
  case CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE: return 2619000;
  case CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH: return 5120;
  case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE: return 50 << 20;
  case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: return 132;
  case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR: return 2048;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: return 9;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: return 0;
  case CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING: return 1;
  case CU_DEVICE_ATTRIBUTE_CONCURRENT_KERNELS: return 1;
  case CU_DEVICE_ATTRIBUTE_ASYNC_ENGINE_COUNT: return 2;
  case CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY: return 1;
  case CU_DEVICE_ATTRIBUTE_INTEGRATED: return 0;
  case CU_DEVICE_ATTRIBUTE_ECC_ENABLED: return 0;
  case CU_DEVICE_ATTRIBUTE_TCC_DRIVER: return 0;
  case CU_DEVICE_ATTRIBUTE_PCI_BUS_ID: return 1;
  case CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID: return 0;
  case CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID: return 0;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_MODE: return CU_COMPUTEMODE_DEFAULT;
  default: *ok = false; return 0;
  }
}

static CUresult check_device(const char *call, CUdevice d) {
  if (!init_done) return fail(CUDA_ERROR_NOT_INITIALIZED, call, "cuInit has not been called");
  if (d != 0) return fail(CUDA_ERROR_INVALID_DEVICE, call, "device %d does not exist (one device, ordinal 0)", d);
  return CUDA_SUCCESS;
}

extern "C" {

CUresult cuInit(unsigned flags) {
  Lock l(mu);
  if (flags != 0) return fail(CUDA_ERROR_INVALID_VALUE, "cuInit", "flags must be 0, got %u", flags);
  if (!init_done) {
    init_done = true;
    atexit(print_counters);
    const char *cp = getenv("FAKE_CUDA_CP_ASYNC");
    cp_late = !(cp && !strcmp(cp, "early")); // by default copies land only when waited for: stricter
  }
  return CUDA_SUCCESS;
}

CUresult cuDriverGetVersion(int *v) {
  if (!v) return fail(CUDA_ERROR_INVALID_VALUE, "cuDriverGetVersion", "null pointer");
  *v = CUDA_VERSION;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int *n) {
  Lock l(mu);
  if (!init_done) return fail(CUDA_ERROR_NOT_INITIALIZED, "cuDeviceGetCount", "cuInit has not been called");
  *n = 1;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice *d, int ordinal) {
  Lock l(mu);
  if (CUresult r = check_device("cuDeviceGet", ordinal)) return r;
  *d = ordinal;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char *name, int len, CUdevice d) {
  Lock l(mu);
  if (CUresult r = check_device("cuDeviceGetName", d)) return r;
  if (!name || len <= 0) return fail(CUDA_ERROR_INVALID_VALUE, "cuDeviceGetName", "no room for the name");
  snprintf(name, len, "%s", DEVICE_NAME);
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int *v, CUdevice_attribute a, CUdevice d) {
  Lock l(mu);
  if (CUresult r = check_device("cuDeviceGetAttribute", d)) return r;
  bool ok;
  *v = attribute(a, &ok);
  if (!ok)
    return fail(CUDA_ERROR_NOT_SUPPORTED, "cuDeviceGetAttribute",
                "attribute %d is not emulated (add it to device.cpp if the backend needs it)", (int)a);
  return CUDA_SUCCESS;
}

CUresult cuDeviceTotalMem(size_t *bytes, CUdevice d) {
  Lock l(mu);
  if (CUresult r = check_device("cuDeviceTotalMem", d)) return r;
  *bytes = memory_limit();
  return CUDA_SUCCESS;
}

CUresult cuCtxCreate(CUcontext *ctx, unsigned flags, CUdevice d) {
  Lock l(mu);
  if (CUresult r = check_device("cuCtxCreate", d)) return r;
  Context *c = new Context{flags};
  contexts.insert(c);
  current = c;
  *ctx = (CUcontext)c;
  return CUDA_SUCCESS;
}

CUresult cuCtxDestroy(CUcontext ctx) {
  Lock l(mu);
  Context *c = (Context *)ctx;
  if (!contexts.erase(c)) return fail(CUDA_ERROR_INVALID_CONTEXT, "cuCtxDestroy", "%p is not a live context", ctx);
  if (current == c) current = nullptr;
  delete c;
  // A Go program's os.Exit skips atexit handlers: the counters are printed
  // when the last context goes, as well (once).
  if (contexts.empty()) print_counters();
  return CUDA_SUCCESS;
}

CUresult cuCtxSetCurrent(CUcontext ctx) {
  Lock l(mu);
  Context *c = (Context *)ctx;
  if (c && !contexts.count(c)) return fail(CUDA_ERROR_INVALID_CONTEXT, "cuCtxSetCurrent", "%p is not a live context", ctx);
  current = c;
  return CUDA_SUCCESS;
}

CUresult cuCtxGetCurrent(CUcontext *ctx) {
  *ctx = (CUcontext)current;
  return CUDA_SUCCESS;
}

CUresult cuCtxGetDevice(CUdevice *d) {
  Lock l(mu);
  if (CUresult r = need_context("cuCtxGetDevice")) return r;
  *d = 0;
  return CUDA_SUCCESS;
}

CUresult cuMemGetInfo(size_t *free, size_t *total) {
  Lock l(mu);
  if (CUresult r = need_context("cuMemGetInfo")) return r;
  *total = memory_limit();
  *free = memory_limit() - counters.live_bytes;
  return CUDA_SUCCESS;
}

} // extern "C"
