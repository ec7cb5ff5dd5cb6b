// Device memory is host memory with guard pages: each allocation ends at an
// inaccessible page (a kernel reading or writing past the end faults at
// once) and starts after one; the bytes between the 256-byte-aligned block
// and the pages are a canary checked when the block is freed. New blocks
// are filled with 0xff (NaN in every float type), so a read of memory
// nothing wrote shows up in results. Freed blocks stay mapped without
// access, so a late use faults and a second cuMemFree is recognised.
#include "driver.h"

#include <cstdio>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

namespace fake {

namespace {
struct Block {
  unsigned char *map; // the whole mapping, guard pages included
  size_t map_bytes;
  size_t size; // bytes requested
};
std::map<CUdeviceptr, Block> live;    // by address handed out
std::map<CUdeviceptr, size_t> freed;  // addresses freed, with their sizes
std::set<void *> pinned;              // cuMemHostAlloc results
const unsigned char CANARY = 0xcd;
size_t page() { return (size_t)getpagesize(); }

// find returns the live block containing p, or live.end().
std::map<CUdeviceptr, Block>::iterator find(CUdeviceptr p) {
  auto it = live.upper_bound(p);
  if (it == live.begin()) return live.end();
  --it;
  return p < it->first + it->second.size ? it : live.end();
}
} // namespace

bool is_device(CUdeviceptr p) { return find(p) != live.end(); }

CUresult check_range(const char *call, const char *what, CUdeviceptr p, size_t bytes) {
  auto it = find(p);
  if (it == live.end()) {
    auto f = freed.upper_bound(p);
    if (f != freed.begin() && p < std::prev(f)->first + std::prev(f)->second)
      return fail(CUDA_ERROR_INVALID_VALUE, call, "%s 0x%llx is in a block already freed (0x%llx, %zu bytes)", what,
                  (unsigned long long)p, (unsigned long long)std::prev(f)->first, std::prev(f)->second);
    return fail(CUDA_ERROR_INVALID_VALUE, call, "%s 0x%llx is not device memory", what, (unsigned long long)p);
  }
  size_t off = p - it->first;
  if (bytes > it->second.size - off)
    return fail(CUDA_ERROR_INVALID_VALUE, call,
                "%s 0x%llx + %zu bytes runs past the end of its block (0x%llx, %zu bytes) by %zu", what,
                (unsigned long long)p, bytes, (unsigned long long)it->first, it->second.size,
                bytes - (it->second.size - off));
  return CUDA_SUCCESS;
}

} // namespace fake

using namespace fake;

extern "C" {

CUresult cuMemAlloc(CUdeviceptr *dptr, size_t bytes) {
  Lock l(mu);
  if (CUresult r = need_context("cuMemAlloc")) return r;
  if (bytes == 0) return fail(CUDA_ERROR_INVALID_VALUE, "cuMemAlloc", "0 bytes requested");
  if ((size_t)counters.live_bytes + bytes > memory_limit())
    return fail(CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc", "%zu bytes requested, %ld in use of %zu (FAKE_CUDA_MEMORY_GIB)",
                bytes, counters.live_bytes, memory_limit());
  size_t rounded = (bytes + 255) & ~size_t(255);
  size_t data = (rounded + page() - 1) & ~(page() - 1);
  size_t total = data + 2 * page();
  void *m = mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) return fail(CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc", "mmap of %zu bytes failed", total);
  unsigned char *base = (unsigned char *)m;
  mprotect(base + page(), data, PROT_READ | PROT_WRITE);
  unsigned char *p = base + page() + data - rounded;
  if (!count_only()) {
    memset(base + page(), CANARY, data);
    memset(p, 0xff, bytes);
  }
  live[(CUdeviceptr)p] = Block{base, total, bytes};
  gregister(p, bytes);
  counters.allocs++;
  counters.alloc_bytes += bytes;
  counters.live_bytes += bytes;
  counters.peak_bytes = std::max(counters.peak_bytes, counters.live_bytes);
  *dptr = (CUdeviceptr)p;
  return CUDA_SUCCESS;
}

CUresult cuMemFree(CUdeviceptr p) {
  Lock l(mu);
  if (CUresult r = need_context("cuMemFree")) return r;
  auto it = live.find(p);
  if (it == live.end()) {
    if (freed.count(p))
      return fail(CUDA_ERROR_INVALID_VALUE, "cuMemFree", "0x%llx was already freed (double free)",
                  (unsigned long long)p);
    return fail(CUDA_ERROR_INVALID_VALUE, "cuMemFree", "0x%llx is not the start of a live allocation",
                (unsigned long long)p);
  }
  Block b = it->second;
  unsigned char *data = b.map + page(), *end = b.map + b.map_bytes - page();
  for (unsigned char *q = data; q < end && !count_only(); q++)
    if ((q < (unsigned char *)p || q >= (unsigned char *)p + b.size) && *q != CANARY) {
      long off = q - (unsigned char *)p;
      fprintf(stderr, "fake libcuda: cuMemFree: block 0x%llx (%zu bytes) was written outside its bounds, at offset %ld\n",
              (unsigned long long)p, b.size, off);
      abort(); // memory corruption: nothing after this can be trusted
    }
  madvise(b.map, b.map_bytes, MADV_DONTNEED);
  mprotect(b.map, b.map_bytes, PROT_NONE);
  live.erase(it);
  freed[p] = b.size;
  gunregister((void *)p);
  counters.frees++;
  counters.live_bytes -= b.size;
  return CUDA_SUCCESS;
}

CUresult cuMemGetAddressRange(CUdeviceptr *base, size_t *size, CUdeviceptr p) {
  Lock l(mu);
  auto it = find(p);
  if (it == live.end())
    return fail(CUDA_ERROR_NOT_FOUND, "cuMemGetAddressRange", "0x%llx is not device memory", (unsigned long long)p);
  if (base) *base = it->first;
  if (size) *size = it->second.size;
  return CUDA_SUCCESS;
}

CUresult cuMemHostAlloc(void **pp, size_t bytes, unsigned flags) {
  Lock l(mu);
  if (CUresult r = need_context("cuMemHostAlloc")) return r;
  (void)flags;
  void *p = malloc(bytes ? bytes : 1);
  if (!p) return fail(CUDA_ERROR_OUT_OF_MEMORY, "cuMemHostAlloc", "%zu bytes", bytes);
  pinned.insert(p);
  counters.host_allocs++;
  *pp = p;
  return CUDA_SUCCESS;
}

CUresult cuMemFreeHost(void *p) {
  Lock l(mu);
  if (!pinned.erase(p))
    return fail(CUDA_ERROR_INVALID_VALUE, "cuMemFreeHost", "%p is not pinned memory from cuMemHostAlloc (or was freed)", p);
  free(p);
  return CUDA_SUCCESS;
}

// ---- copies and memsets: checked at once, run (or captured) on the stream ----

static CUresult copy(const char *call, void *dst, const void *src, size_t n, CUstream s, bool dst_dev, bool src_dev) {
  Lock l(mu);
  if (CUresult r = need_context(call)) return r;
  if (n == 0) return CUDA_SUCCESS;
  if (dst_dev)
    if (CUresult r = check_range(call, "destination", (CUdeviceptr)dst, n)) return r;
  if (src_dev)
    if (CUresult r = check_range(call, "source", (CUdeviceptr)src, n)) return r;
  Op op{Op::COPY};
  op.dst = dst;
  op.src = src;
  op.bytes = n;
  op.value = (dst_dev ? 1 : 0) | (src_dev ? 2 : 0);
  return submit(call, s, op);
}

CUresult cuMemcpyHtoD(CUdeviceptr d, const void *h, size_t n) { return copy("cuMemcpyHtoD", (void *)d, h, n, 0, true, false); }
CUresult cuMemcpyHtoDAsync(CUdeviceptr d, const void *h, size_t n, CUstream s) {
  return copy("cuMemcpyHtoDAsync", (void *)d, h, n, s, true, false);
}
CUresult cuMemcpyDtoH(void *h, CUdeviceptr d, size_t n) { return copy("cuMemcpyDtoH", h, (void *)d, n, 0, false, true); }
CUresult cuMemcpyDtoHAsync(void *h, CUdeviceptr d, size_t n, CUstream s) {
  return copy("cuMemcpyDtoHAsync", h, (void *)d, n, s, false, true);
}
CUresult cuMemcpyDtoD(CUdeviceptr d, CUdeviceptr s, size_t n) {
  return copy("cuMemcpyDtoD", (void *)d, (void *)s, n, 0, true, true);
}
CUresult cuMemcpyDtoDAsync(CUdeviceptr d, CUdeviceptr s, size_t n, CUstream st) {
  return copy("cuMemcpyDtoDAsync", (void *)d, (void *)s, n, st, true, true);
}
// Unified addressing: either side may be device or host memory.
CUresult cuMemcpy(CUdeviceptr d, CUdeviceptr s, size_t n) {
  Lock l(mu);
  return copy("cuMemcpy", (void *)d, (void *)s, n, 0, is_device(d), is_device(s));
}
CUresult cuMemcpyAsync(CUdeviceptr d, CUdeviceptr s, size_t n, CUstream st) {
  Lock l(mu);
  return copy("cuMemcpyAsync", (void *)d, (void *)s, n, st, is_device(d), is_device(s));
}

static CUresult memset_elems(const char *call, CUdeviceptr d, uint32_t v, unsigned elem, size_t count, CUstream s) {
  Lock l(mu);
  if (CUresult r = need_context(call)) return r;
  if (count == 0) return CUDA_SUCCESS;
  if (d % elem) return fail(CUDA_ERROR_INVALID_VALUE, call, "0x%llx is not %u-byte aligned", (unsigned long long)d, elem);
  if (CUresult r = check_range(call, "destination", d, count * elem)) return r;
  Op op{Op::SET};
  op.dst = (void *)d;
  op.bytes = count * elem;
  op.value = v;
  op.elem = elem;
  return submit(call, s, op);
}

CUresult cuMemsetD8(CUdeviceptr d, unsigned char v, size_t n) { return memset_elems("cuMemsetD8", d, v, 1, n, 0); }
CUresult cuMemsetD16(CUdeviceptr d, unsigned short v, size_t n) { return memset_elems("cuMemsetD16", d, v, 2, n, 0); }
CUresult cuMemsetD32(CUdeviceptr d, unsigned v, size_t n) { return memset_elems("cuMemsetD32", d, v, 4, n, 0); }
CUresult cuMemsetD8Async(CUdeviceptr d, unsigned char v, size_t n, CUstream s) {
  return memset_elems("cuMemsetD8Async", d, v, 1, n, s);
}
CUresult cuMemsetD16Async(CUdeviceptr d, unsigned short v, size_t n, CUstream s) {
  return memset_elems("cuMemsetD16Async", d, v, 2, n, s);
}
CUresult cuMemsetD32Async(CUdeviceptr d, unsigned v, size_t n, CUstream s) {
  return memset_elems("cuMemsetD32Async", d, v, 4, n, s);
}

} // extern "C"
