#include "runtime.h"
#include <memory>
#include <thread>

thread_local dim3u threadIdx, blockIdx;
dim3u blockDim, gridDim;
thread_local WarpCtx *warp_ctx;
thread_local unsigned thread_rank;
thread_local CpState cp_state;
std::barrier<> *block_bar;
bool cp_late;
unsigned char *smem_lo, *smem_hi;
constexpr size_t SMEM_CAP = 200000, CANARY = 4096;
// Dynamic shared memory: the fast kernels declare it as `extern unsigned char
// smem_raw[]`, simple_attention.cu as `extern float smem[]`; both name it.
unsigned char smem_raw[SMEM_CAP + CANARY] __attribute__((aligned(128)));
extern float smem[] __attribute__((alias("smem_raw")));

// The static __shared__ arrays (cuda_host.h puts them in section emu_shared;
// the linker defines these bounds when any exist).
extern unsigned char __start_emu_shared[] __attribute__((weak));
extern unsigned char __stop_emu_shared[] __attribute__((weak));

static std::vector<std::pair<const unsigned char *, size_t>> gallocs;
void gregister(const void *p, size_t bytes) { gallocs.push_back({(const unsigned char *)p, bytes}); }
void greset() { gallocs.clear(); }

void cp_check(void *dst, const void *src) {
  unsigned char *d = (unsigned char *)dst;
  if (d < smem_lo || d + 16 > smem_hi) { fprintf(stderr, "cp.async dst outside shared memory\n"); abort(); }
  if (!src) return;
  const unsigned char *s = (const unsigned char *)src;
  for (auto &a : gallocs)
    if (s >= a.first && s + 16 <= a.first + a.second) return;
  fprintf(stderr, "cp.async src %p outside every allocation\n", src);
  abort();
}

// Per-block state: the __syncthreads barrier and one context per warp. A
// thread that returns drops out of both, as an exited CUDA thread no longer
// counts at a barrier.
struct BlockState {
  std::unique_ptr<std::barrier<>> bar;
  std::vector<std::unique_ptr<std::barrier<>>> warp_bars;
  std::vector<WarpCtx> warps;
  BlockState(unsigned threads) : bar(new std::barrier<>(threads)), warps((threads + 31) / 32) {
    for (unsigned w = 0; w < warps.size(); w++) {
      warp_bars.emplace_back(new std::barrier<>(std::min(32u, threads - 32 * w)));
      warps[w].bar = warp_bars[w].get();
    }
  }
};

// Poisons shared memory with NaN (0xff bytes) so that reads of unwritten
// elements show, after checking that the previous block wrote nothing past
// the launcher's dynamic byte count.
static void between_blocks(size_t shared, bool check) {
  if (check)
    for (size_t i = shared; i < SMEM_CAP + CANARY; i++)
      if (smem_raw[i] != 0xff) { fprintf(stderr, "shared memory written past %zu bytes (at %zu)\n", shared, i); abort(); }
  memset(smem_raw, 0xff, SMEM_CAP + CANARY);
  if (__start_emu_shared) memset(__start_emu_shared, 0xff, __stop_emu_shared - __start_emu_shared);
}

void launch(dim3u grid, dim3u block, size_t shared, const std::function<void()> &fn) {
  unsigned threads = block.x * block.y * block.z;
  if (shared > SMEM_CAP) { fprintf(stderr, "shared too big\n"); abort(); }
  if (threads == 0 || threads > 1024) { fprintf(stderr, "block of %u threads\n", threads); abort(); }
  if (grid.y > 65535 || grid.z > 65535) { fprintf(stderr, "grid.y or grid.z beyond 65535\n"); abort(); }
  blockDim = block;
  gridDim = grid;
  smem_lo = smem_raw;
  smem_hi = smem_raw + shared;
  size_t blocks = (size_t)grid.x * grid.y * grid.z;
  std::unique_ptr<BlockState> state;
  bool first = true;
  // Every worker meets here before each block; the last to arrive checks and
  // resets shared memory and the barriers for the next block.
  std::barrier gate(threads, [&]() noexcept {
    between_blocks(shared, !first);
    first = false;
    state.reset(new BlockState(threads));
    block_bar = state->bar.get();
  });
  auto worker = [&](unsigned rank) {
    thread_rank = rank;
    threadIdx = {rank % block.x, rank / block.x % block.y, rank / (block.x * block.y)};
    for (size_t n = 0; n < blocks; n++) {
      gate.arrive_and_wait();
      blockIdx = {unsigned(n % grid.x), unsigned(n / grid.x % grid.y), unsigned(n / ((size_t)grid.x * grid.y))};
      warp_ctx = &state->warps[rank / 32];
      cp_state = CpState{};
      fn();
      if (!cp_state.open.empty()) { fprintf(stderr, "uncommitted cp.async at exit\n"); abort(); }
      for (auto &g : cp_state.groups)
        if (!g.empty()) { fprintf(stderr, "cp.async group never waited for\n"); abort(); }
      warp_ctx->bar->arrive_and_drop();
      block_bar->arrive_and_drop();
    }
    gate.arrive_and_wait(); // the last block's canary check
  };
  std::vector<std::thread> ts;
  for (unsigned t = 0; t < threads; t++) ts.emplace_back(worker, t);
  for (auto &t : ts) t.join();
}
