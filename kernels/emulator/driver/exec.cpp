// Launches, streams, events and graphs. Work runs when it is queued, on the
// calling thread, so a stream is in order by construction; a stream being
// captured records the work instead, and a graph launch replays it, checking
// again that every address it uses is still allocated.
#include "module.h"

#include <chrono>
#include <cstdio>
#include <cstring>

namespace fake {

namespace {
std::set<Stream *> streams;
Stream default_stream;
std::set<Graph *> graphs;
std::set<Graph *> execs; // instantiated copies
int capturing;           // streams between BeginCapture and EndCapture
struct Event {
  double ms = 0;
  bool recorded = false;
};
std::set<Event *> events;

double now_ms() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

// check_params looks at each parameter's 8-byte slot (the caller boxes every
// parameter into one): a pointer must be 0 or inside a live allocation, and a
// 4-byte parameter's upper half must be zero, or the arguments are out of
// order or of the wrong type.
CUresult check_params(const char *call, const Function *f, const std::vector<uint64_t> &slots) {
  const char *kinds = f->kernel->kinds;
  for (size_t i = 0; i < slots.size(); i++) {
    uint64_t v = slots[i];
    if (kinds[i] == 'p') {
      if (v != 0 && !is_device(v))
        return fail(CUDA_ERROR_INVALID_VALUE, call,
                    "%s: parameter %zu is a pointer, but 0x%llx is not live device memory "
                    "(arguments out of order, or a freed tensor?)",
                    f->name.c_str(), i, (unsigned long long)v);
    } else if (kinds[i] != 'l' && (v >> 32) != 0) {
      return fail(CUDA_ERROR_INVALID_VALUE, call,
                  "%s: parameter %zu takes 4 bytes but its slot holds the 64-bit value 0x%llx "
                  "(a pointer where the kernel wants an int or float?)",
                  f->name.c_str(), i, (unsigned long long)v);
    }
  }
  return CUDA_SUCCESS;
}
} // namespace

CUresult stream_of(const char *call, CUstream h, Stream **out) {
  if (h == nullptr || h == CU_STREAM_LEGACY || h == CU_STREAM_PER_THREAD) {
    *out = &default_stream;
    return CUDA_SUCCESS;
  }
  if (!streams.count((Stream *)h)) return fail(CUDA_ERROR_INVALID_HANDLE, call, "%p is not a live stream", h);
  *out = (Stream *)h;
  return CUDA_SUCCESS;
}

void run_op(const Op &op) {
  switch (op.kind) {
  case Op::KERNEL: {
    std::vector<void *> ptrs(op.params.size());
    std::vector<uint64_t> vals = op.params;
    for (size_t i = 0; i < vals.size(); i++) ptrs[i] = &vals[i];
    counters.launches++;
    counters.per_kernel[op.fn->name]++;
    if (!count_only()) op.fn->kernel->run(ptrs.data(), op.grid, op.block, op.shared);
    break;
  }
  case Op::COPY: {
    if (!count_only()) memmove(op.dst, op.src, op.bytes);
    bool dst_dev = op.value & 1, src_dev = op.value & 2;
    if (dst_dev && src_dev) counters.dtod++, counters.dtod_bytes += op.bytes;
    else if (dst_dev) counters.htod++, counters.htod_bytes += op.bytes;
    else if (src_dev) counters.dtoh++, counters.dtoh_bytes += op.bytes;
    break;
  }
  case Op::SET: {
    unsigned char *d = (unsigned char *)op.dst;
    for (size_t i = 0; i < op.bytes && !count_only(); i += op.elem) memcpy(d + i, &op.value, op.elem);
    counters.memsets++;
    break;
  }
  }
}

CUresult submit(const char *call, CUstream h, Op op) {
  Stream *s;
  if (CUresult r = stream_of(call, h, &s)) return r;
  if (s->capture) {
    s->capture->ops.push_back(std::move(op));
    return CUDA_SUCCESS;
  }
  if (capturing && s == &default_stream)
    return fail(CUDA_ERROR_STREAM_CAPTURE_IMPLICIT, call,
                "work on the default stream while another stream is being captured");
  run_op(op);
  return CUDA_SUCCESS;
}

// replay_check re-validates a recorded operation before a graph replays it.
static CUresult replay_check(const Op &op) {
  const char *call = "cuGraphLaunch";
  switch (op.kind) {
  case Op::KERNEL: return check_params(call, op.fn, op.params);
  case Op::COPY:
    if (op.value & 1)
      if (CUresult r = check_range(call, "copy destination", (CUdeviceptr)op.dst, op.bytes)) return r;
    if (op.value & 2)
      if (CUresult r = check_range(call, "copy source", (CUdeviceptr)op.src, op.bytes)) return r;
    return CUDA_SUCCESS;
  case Op::SET: return check_range(call, "memset destination", (CUdeviceptr)op.dst, op.bytes);
  }
  return CUDA_SUCCESS;
}

static CUresult sync_stream(const char *call, Stream *s) {
  if (s->capture)
    return fail(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, call,
                "synchronising a stream that is being captured (a host wait inside a captured step)");
  counters.syncs++;
  return CUDA_SUCCESS;
}

} // namespace fake

using namespace fake;

extern "C" {

CUresult cuLaunchKernel(CUfunction hf, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, CUstream hs, void **params, void **extra) {
  Lock l(mu);
  const char *call = "cuLaunchKernel";
  if (CUresult r = need_context(call)) return r;
  Function *f = (Function *)hf;
  if (!functions.count(f)) return fail(CUDA_ERROR_INVALID_HANDLE, call, "%p is not a function", hf);
  const char *name = f->name.c_str();
  if (extra) return fail(CUDA_ERROR_NOT_SUPPORTED, call, "%s: the extra argument is not emulated", name);
  if (!gx || !gy || !gz || gy > 65535 || gz > 65535 || gx > 2147483647u)
    return fail(CUDA_ERROR_INVALID_VALUE, call, "%s: grid (%u,%u,%u) outside the device's limits", name, gx, gy, gz);
  unsigned long threads = (unsigned long)bx * by * bz;
  if (!bx || !by || !bz || bx > 1024 || by > 1024 || bz > 64 || threads > 1024)
    return fail(CUDA_ERROR_INVALID_VALUE, call, "%s: block (%u,%u,%u) outside the device's limits", name, bx, by, bz);
  if (threads > f->entry->max_threads)
    return fail(CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, call, "%s: block of %lu threads, its __launch_bounds__ allow %u",
                name, threads, f->entry->max_threads);
  if ((int)shared > f->max_dynamic_shared)
    return fail(CUDA_ERROR_INVALID_VALUE, call,
                "%s: %u bytes of dynamic shared memory, the function is opened to %d "
                "(cuFuncSetAttribute MAX_DYNAMIC_SHARED_SIZE_BYTES)",
                name, shared, f->max_dynamic_shared);
  size_t n = strlen(f->kernel->kinds);
  if (n && !params) return fail(CUDA_ERROR_INVALID_VALUE, call, "%s: no kernelParams for %zu parameters", name, n);
  Op op{Op::KERNEL};
  op.fn = f;
  op.grid = {gx, gy, gz};
  op.block = {bx, by, bz};
  op.shared = shared;
  op.params.resize(n);
  for (size_t i = 0; i < n; i++) memcpy(&op.params[i], params[i], 8);
  if (CUresult r = check_params(call, f, op.params)) return r;
  return submit(call, hs, std::move(op));
}

// ---- streams ----

CUresult cuStreamCreate(CUstream *out, unsigned flags) {
  Lock l(mu);
  if (CUresult r = need_context("cuStreamCreate")) return r;
  Stream *s = new Stream{flags};
  streams.insert(s);
  *out = (CUstream)s;
  return CUDA_SUCCESS;
}

CUresult cuStreamDestroy(CUstream h) {
  Lock l(mu);
  Stream *s = (Stream *)h;
  if (!streams.count(s)) return fail(CUDA_ERROR_INVALID_HANDLE, "cuStreamDestroy", "%p is not a live stream", h);
  if (s->capture) return fail(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "cuStreamDestroy", "the stream is being captured");
  streams.erase(s);
  delete s;
  return CUDA_SUCCESS;
}

CUresult cuStreamSynchronize(CUstream h) {
  Lock l(mu);
  Stream *s;
  if (CUresult r = stream_of("cuStreamSynchronize", h, &s)) return r;
  return sync_stream("cuStreamSynchronize", s);
}

CUresult cuStreamQuery(CUstream h) {
  Lock l(mu);
  Stream *s;
  return stream_of("cuStreamQuery", h, &s);
}

CUresult cuCtxSynchronize(void) {
  Lock l(mu);
  if (CUresult r = need_context("cuCtxSynchronize")) return r;
  if (capturing)
    return fail(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "cuCtxSynchronize", "called while a stream is being captured");
  counters.syncs++;
  return CUDA_SUCCESS;
}

CUresult cuStreamBeginCapture(CUstream h, CUstreamCaptureMode mode) {
  Lock l(mu);
  (void)mode;
  Stream *s;
  if (CUresult r = stream_of("cuStreamBeginCapture", h, &s)) return r;
  if (s == &default_stream)
    return fail(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "cuStreamBeginCapture", "the default stream cannot be captured");
  if (s->capture) return fail(CUDA_ERROR_ILLEGAL_STATE, "cuStreamBeginCapture", "the stream is already being captured");
  s->capture = new Graph;
  capturing++;
  return CUDA_SUCCESS;
}

CUresult cuStreamEndCapture(CUstream h, CUgraph *out) {
  Lock l(mu);
  Stream *s;
  if (CUresult r = stream_of("cuStreamEndCapture", h, &s)) return r;
  if (!s->capture) return fail(CUDA_ERROR_ILLEGAL_STATE, "cuStreamEndCapture", "the stream is not being captured");
  graphs.insert(s->capture);
  *out = (CUgraph)s->capture;
  s->capture = nullptr;
  capturing--;
  return CUDA_SUCCESS;
}

// ---- graphs ----

CUresult cuGraphInstantiateWithFlags(CUgraphExec *out, CUgraph hg, unsigned long long flags) {
  Lock l(mu);
  (void)flags;
  Graph *g = (Graph *)hg;
  if (!graphs.count(g)) return fail(CUDA_ERROR_INVALID_HANDLE, "cuGraphInstantiateWithFlags", "%p is not a graph", hg);
  Graph *ex = new Graph(*g);
  execs.insert(ex);
  *out = (CUgraphExec)ex;
  return CUDA_SUCCESS;
}

CUresult cuGraphLaunch(CUgraphExec hx, CUstream hs) {
  Lock l(mu);
  if (CUresult r = need_context("cuGraphLaunch")) return r;
  Graph *ex = (Graph *)hx;
  if (!execs.count(ex)) return fail(CUDA_ERROR_INVALID_HANDLE, "cuGraphLaunch", "%p is not an instantiated graph", hx);
  Stream *s;
  if (CUresult r = stream_of("cuGraphLaunch", hs, &s)) return r;
  for (const Op &op : ex->ops)
    if (CUresult r = replay_check(op)) return r;
  if (s->capture) { // a graph launched into a capture becomes part of it
    for (const Op &op : ex->ops) s->capture->ops.push_back(op);
    return CUDA_SUCCESS;
  }
  counters.graph_launches++;
  for (const Op &op : ex->ops) {
    counters.graph_nodes_replayed++;
    run_op(op);
  }
  return CUDA_SUCCESS;
}

CUresult cuGraphDestroy(CUgraph hg) {
  Lock l(mu);
  Graph *g = (Graph *)hg;
  if (!graphs.erase(g)) return fail(CUDA_ERROR_INVALID_HANDLE, "cuGraphDestroy", "%p is not a graph", hg);
  delete g;
  return CUDA_SUCCESS;
}

CUresult cuGraphExecDestroy(CUgraphExec hx) {
  Lock l(mu);
  Graph *ex = (Graph *)hx;
  if (!execs.erase(ex)) return fail(CUDA_ERROR_INVALID_HANDLE, "cuGraphExecDestroy", "%p is not an instantiated graph", hx);
  delete ex;
  return CUDA_SUCCESS;
}

// ---- events: timestamps of the host clock, taken when work before them is done ----

CUresult cuEventCreate(CUevent *out, unsigned flags) {
  Lock l(mu);
  if (CUresult r = need_context("cuEventCreate")) return r;
  (void)flags;
  Event *e = new Event;
  events.insert(e);
  *out = (CUevent)e;
  return CUDA_SUCCESS;
}

CUresult cuEventDestroy(CUevent h) {
  Lock l(mu);
  Event *e = (Event *)h;
  if (!events.erase(e)) return fail(CUDA_ERROR_INVALID_HANDLE, "cuEventDestroy", "%p is not a live event", h);
  delete e;
  return CUDA_SUCCESS;
}

CUresult cuEventRecord(CUevent h, CUstream hs) {
  Lock l(mu);
  Event *e = (Event *)h;
  if (!events.count(e)) return fail(CUDA_ERROR_INVALID_HANDLE, "cuEventRecord", "%p is not a live event", h);
  Stream *s;
  if (CUresult r = stream_of("cuEventRecord", hs, &s)) return r;
  if (s->capture)
    return fail(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "cuEventRecord", "event records inside a capture are not emulated");
  e->ms = now_ms();
  e->recorded = true;
  return CUDA_SUCCESS;
}

CUresult cuEventSynchronize(CUevent h) {
  Lock l(mu);
  Event *e = (Event *)h;
  if (!events.count(e)) return fail(CUDA_ERROR_INVALID_HANDLE, "cuEventSynchronize", "%p is not a live event", h);
  counters.syncs++;
  return CUDA_SUCCESS;
}

CUresult cuEventQuery(CUevent h) {
  Lock l(mu);
  if (!events.count((Event *)h)) return fail(CUDA_ERROR_INVALID_HANDLE, "cuEventQuery", "%p is not a live event", h);
  return CUDA_SUCCESS;
}

CUresult cuEventElapsedTime(float *ms, CUevent a, CUevent b) {
  Lock l(mu);
  Event *s = (Event *)a, *e = (Event *)b;
  if (!events.count(s) || !events.count(e))
    return fail(CUDA_ERROR_INVALID_HANDLE, "cuEventElapsedTime", "%p or %p is not a live event", a, b);
  if (!s->recorded || !e->recorded)
    return fail(CUDA_ERROR_INVALID_HANDLE, "cuEventElapsedTime", "an event was never recorded");
  *ms = (float)(e->ms - s->ms);
  return CUDA_SUCCESS;
}

CUresult cuStreamWaitEvent(CUstream hs, CUevent h, unsigned flags) {
  Lock l(mu);
  (void)flags;
  Stream *s;
  if (CUresult r = stream_of("cuStreamWaitEvent", hs, &s)) return r;
  if (!events.count((Event *)h)) return fail(CUDA_ERROR_INVALID_HANDLE, "cuStreamWaitEvent", "%p is not a live event", h);
  return CUDA_SUCCESS;
}

} // extern "C"
