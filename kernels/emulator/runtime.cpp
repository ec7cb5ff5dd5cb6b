#include "runtime.h"
thread_local dim3u threadIdx, blockIdx;
thread_local WarpCtx *warp_ctx;
thread_local CpState cp_state;
std::barrier<> *block_bar;
bool cp_late;
unsigned char *smem_lo, *smem_hi;
constexpr size_t SMEM_CAP = 200000, CANARY = 4096;
unsigned char smem_raw[SMEM_CAP + CANARY] __attribute__((aligned(128)));

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

void launch(dim3u grid, unsigned threads, size_t shared, const std::function<void()> &fn) {
  if (shared > SMEM_CAP) { fprintf(stderr, "shared too big\n"); abort(); }
  smem_lo = smem_raw; smem_hi = smem_raw + shared;
  for (unsigned bz = 0; bz < grid.z; bz++)
    for (unsigned by = 0; by < grid.y; by++)
      for (unsigned bx = 0; bx < grid.x; bx++) {
        memset(smem_raw, 0xff, SMEM_CAP + CANARY); // NaN everywhere: unwritten reads show
        std::barrier<> bb(threads);
        block_bar = &bb;
        unsigned nw = threads / 32;
        std::vector<std::unique_ptr<std::barrier<>>> wb;
        std::vector<WarpCtx> wc(nw);
        for (unsigned w = 0; w < nw; w++) { wb.emplace_back(new std::barrier<>(32)); wc[w].bar = wb[w].get(); }
        std::vector<std::thread> ts;
        for (unsigned t = 0; t < threads; t++)
          ts.emplace_back([&, t] {
            threadIdx = {t, 0, 0};
            blockIdx = {bx, by, bz};
            warp_ctx = &wc[t / 32];
            cp_state = CpState{};
            fn();
            if (!cp_state.open.empty()) { fprintf(stderr, "uncommitted cp.async at exit\n"); abort(); }
            for (auto &g : cp_state.groups)
              if (!g.empty()) { fprintf(stderr, "cp.async group never waited for\n"); abort(); }
          });
        for (auto &t : ts) t.join();
        for (size_t i = shared; i < SMEM_CAP + CANARY; i++)
          if (smem_raw[i] != 0xff) { fprintf(stderr, "shared memory written past %zu bytes (at %zu)\n", shared, i); abort(); }
      }
}
