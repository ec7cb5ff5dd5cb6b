// Modules and functions: cuModuleLoadData(Ex) reads the .entry list of the
// PTX it is given (names, .param types, .maxntid) and binds each entry to the
// host build of the same kernel (registry.h), refusing PTX whose entries or
// parameter types do not match the sources the library was built from.
#include "module.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace fake {

std::set<Module *> modules;
std::set<Function *> functions;

static std::map<std::string, const EmuKernel *> &registry() {
  static std::map<std::string, const EmuKernel *> r;
  return r;
}

// A PTX type accepted for a C++ parameter kind (registry.h's letters).
static bool compatible(char kind, const std::string &ptx) {
  switch (kind) {
  case 'p':
  case 'l': return ptx == ".u64" || ptx == ".s64" || ptx == ".b64";
  case 'i':
  case 'u': return ptx == ".u32" || ptx == ".s32" || ptx == ".b32";
  case 'f': return ptx == ".f32" || ptx == ".b32";
  }
  return false;
}

// parse_entries finds every `.entry name(.param .type name, ...)` and the
// .maxntid that may follow it. It returns "" or what is wrong.
static std::string parse_entries(const std::string &ptx, std::vector<PtxEntry> &out) {
  size_t pos = 0;
  while ((pos = ptx.find(".entry ", pos)) != std::string::npos) {
    pos += 7;
    size_t open = ptx.find('(', pos), close = ptx.find(')', open);
    if (open == std::string::npos || close == std::string::npos) return "an .entry without a parameter list";
    PtxEntry e;
    e.name = ptx.substr(pos, open - pos);
    while (!e.name.empty() && isspace((unsigned char)e.name.back())) e.name.pop_back();
    std::string params = ptx.substr(open + 1, close - open - 1);
    for (size_t p = 0; (p = params.find(".param", p)) != std::string::npos;) {
      p += 6;
      while (p < params.size() && isspace((unsigned char)params[p])) p++;
      size_t end = p;
      while (end < params.size() && !isspace((unsigned char)params[end])) end++;
      e.param_types.push_back(params.substr(p, end - p));
    }
    size_t body = ptx.find('{', close);
    std::string head = ptx.substr(close, body == std::string::npos ? 0 : body - close);
    size_t m = head.find(".maxntid");
    if (m != std::string::npos) {
      unsigned x = 1, y = 1, z = 1;
      sscanf(head.c_str() + m + 8, " %u , %u , %u", &x, &y, &z);
      e.max_threads = x * y * z;
    }
    out.push_back(e);
    pos = close;
  }
  if (out.empty()) return "no .entry in the PTX text";
  return "";
}

} // namespace fake

void emu_register(const char *module, const EmuKernel *kernels, int n) {
  for (int i = 0; i < n; i++) fake::registry()[kernels[i].name] = &kernels[i];
}

using namespace fake;

static CUresult load(const char *call, CUmodule *out, const void *image, char *log, size_t log_size) {
  Lock l(mu);
  if (CUresult r = need_context(call)) return r;
  std::string ptx((const char *)image);
  auto refuse = [&](CUresult code, const std::string &why) {
    if (log && log_size) snprintf(log, log_size, "fake libcuda: %s", why.c_str());
    return fail(code, call, "%s", why.c_str());
  };
  if (ptx.find(".version") == std::string::npos) return refuse(CUDA_ERROR_INVALID_IMAGE, "the image is not PTX text");
  std::vector<PtxEntry> entries;
  std::string bad = parse_entries(ptx, entries);
  if (!bad.empty()) return refuse(CUDA_ERROR_INVALID_PTX, bad);
  Module *mod = new Module;
  for (auto &e : entries) {
    auto it = registry().find(e.name);
    if (it == registry().end()) {
      delete mod;
      return refuse(CUDA_ERROR_INVALID_PTX, "entry " + e.name +
                                                " has no emulated build: the PTX and kernels/cuda sources differ "
                                                "(make ptx, then make fake-cuda)");
    }
    const EmuKernel *k = it->second;
    std::string kinds = k->kinds;
    bool same = kinds.size() == e.param_types.size();
    for (size_t i = 0; same && i < kinds.size(); i++) same = compatible(kinds[i], e.param_types[i]);
    if (!same) {
      std::string ptxs;
      for (auto &t : e.param_types) ptxs += t + " ";
      delete mod;
      return refuse(CUDA_ERROR_INVALID_PTX, "entry " + e.name + ": PTX parameters (" + ptxs +
                                                ") do not match the source's (" + kinds +
                                                "): the PTX is stale (make ptx)");
    }
    mod->entries[e.name] = e;
  }
  modules.insert(mod);
  counters.module_loads++;
  *out = (CUmodule)mod;
  return CUDA_SUCCESS;
}

extern "C" {

CUresult cuModuleLoadData(CUmodule *m, const void *image) { return load("cuModuleLoadData", m, image, nullptr, 0); }

CUresult cuModuleLoadDataEx(CUmodule *m, const void *image, unsigned n, CUjit_option *opts, void **vals) {
  char *log = nullptr;
  size_t log_size = 0;
  for (unsigned i = 0; i < n; i++) {
    if (opts[i] == CU_JIT_ERROR_LOG_BUFFER) log = (char *)vals[i];
    if (opts[i] == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES) log_size = (size_t)(uintptr_t)vals[i];
  }
  return load("cuModuleLoadDataEx", m, image, log, log_size);
}

CUresult cuModuleGetFunction(CUfunction *f, CUmodule hm, const char *name) {
  Lock l(mu);
  if (CUresult r = need_context("cuModuleGetFunction")) return r;
  Module *m = (Module *)hm;
  if (!modules.count(m)) return fail(CUDA_ERROR_INVALID_HANDLE, "cuModuleGetFunction", "%p is not a loaded module", hm);
  auto it = m->entries.find(name);
  if (it == m->entries.end())
    return fail(CUDA_ERROR_NOT_FOUND, "cuModuleGetFunction", "the module has no entry named %s", name);
  Function *fn = new Function{name, registry()[name], &it->second, m};
  m->functions.push_back(fn);
  functions.insert(fn);
  *f = (CUfunction)fn;
  return CUDA_SUCCESS;
}

CUresult cuModuleUnload(CUmodule hm) {
  Lock l(mu);
  Module *m = (Module *)hm;
  if (!modules.erase(m)) return fail(CUDA_ERROR_INVALID_HANDLE, "cuModuleUnload", "%p is not a loaded module", hm);
  for (Function *f : m->functions) functions.erase(f), delete f;
  delete m;
  return CUDA_SUCCESS;
}

CUresult cuFuncSetAttribute(CUfunction hf, CUfunction_attribute a, int v) {
  Lock l(mu);
  Function *f = (Function *)hf;
  if (!functions.count(f)) return fail(CUDA_ERROR_INVALID_HANDLE, "cuFuncSetAttribute", "%p is not a function", hf);
  if (a != CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)
    return fail(CUDA_ERROR_NOT_SUPPORTED, "cuFuncSetAttribute", "attribute %d is not emulated", (int)a);
  if (v < 0 || v > MAX_SHARED_OPTIN)
    return fail(CUDA_ERROR_INVALID_VALUE, "cuFuncSetAttribute",
                "%s: %d bytes of dynamic shared memory, the device allows %d", f->name.c_str(), v, MAX_SHARED_OPTIN);
  f->max_dynamic_shared = v;
  return CUDA_SUCCESS;
}

CUresult cuFuncGetAttribute(int *v, CUfunction_attribute a, CUfunction hf) {
  Lock l(mu);
  Function *f = (Function *)hf;
  if (!functions.count(f)) return fail(CUDA_ERROR_INVALID_HANDLE, "cuFuncGetAttribute", "%p is not a function", hf);
  switch (a) {
  case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: *v = f->max_dynamic_shared; break;
  case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *v = f->entry->max_threads; break;
  case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES: *v = 0; break;
  case CU_FUNC_ATTRIBUTE_NUM_REGS: *v = 64; break;
  case CU_FUNC_ATTRIBUTE_PTX_VERSION:
  case CU_FUNC_ATTRIBUTE_BINARY_VERSION: *v = 90; break;
  default: return fail(CUDA_ERROR_NOT_SUPPORTED, "cuFuncGetAttribute", "attribute %d is not emulated", (int)a);
  }
  return CUDA_SUCCESS;
}

} // extern "C"

// The occupancy query: how many blocks of hf fit on one SM at once, from the
// emulated sm_90's per-SM limits (2048 threads, 32 blocks, 228 KiB of shared
// memory with 1 KiB reserved per block, 64K registers at the 64 a thread
// cuFuncGetAttribute reports). 0 when the block cannot launch at all (more
// threads than __launch_bounds__, more dynamic shared memory than the
// function is opened to), as the launch would then fail.
extern "C" CUresult cuOccupancyMaxActiveBlocksPerMultiprocessor(int *n, CUfunction hf, int block, size_t shared) {
  Lock l(mu);
  const char *call = "cuOccupancyMaxActiveBlocksPerMultiprocessor";
  if (CUresult r = need_context(call)) return r;
  Function *f = (Function *)hf;
  if (!functions.count(f)) return fail(CUDA_ERROR_INVALID_HANDLE, call, "%p is not a function", hf);
  if (!n || block <= 0) return fail(CUDA_ERROR_INVALID_VALUE, call, "%s: block size %d", f->name.c_str(), block);
  constexpr int THREADS_PER_SM = 2048, BLOCKS_PER_SM = 32, SHARED_PER_SM = 233472, RESERVED = 1024,
                REGS_PER_SM = 65536, REGS_PER_THREAD = 64;
  if ((unsigned)block > f->entry->max_threads || (long)shared > f->max_dynamic_shared) {
    *n = 0;
    return CUDA_SUCCESS;
  }
  int blocks = std::min(BLOCKS_PER_SM, THREADS_PER_SM / block);
  blocks = std::min(blocks, int(SHARED_PER_SM / (shared + RESERVED)));
  blocks = std::min(blocks, REGS_PER_SM / (REGS_PER_THREAD * block));
  *n = blocks;
  return CUDA_SUCCESS;
}
