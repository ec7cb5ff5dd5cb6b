// The launch runtime: every CUDA thread of a block is a fiber (its own stack,
// switched by hand on this OS thread), and a fiber only gives way at a
// barrier or a warp collective. That is how a GPU block behaves as far as
// the kernels can tell (no thread may assume another made progress without a
// barrier), and it is hundreds of times cheaper than an OS thread per CUDA
// thread, which matters when a whole model runs through the emulated driver.
// Blocks run one after another.
#include "runtime.h"
#include <map>
#include <sys/mman.h>
#include <unistd.h>

dim3u blockIdx, blockDim, gridDim;
EmuThread *emu_thread;
EmuBarrier *block_bar;
bool cp_late;
unsigned char *smem_lo, *smem_hi;
constexpr size_t SMEM_CAP = 232448, CANARY = 4096; // sm_90's opt-in limit
// Dynamic shared memory: the fast kernels declare it as `extern unsigned char
// smem_raw[]`, simple_attention.cu as `extern float smem[]`; both name it.
unsigned char smem_raw[SMEM_CAP + CANARY] __attribute__((aligned(128)));
extern float smem[] __attribute__((alias("smem_raw")));

// The static __shared__ arrays (cuda_host.h puts them in section emu_shared;
// the linker defines these bounds when any exist).
extern unsigned char __start_emu_shared[] __attribute__((weak));
extern unsigned char __stop_emu_shared[] __attribute__((weak));

// Global allocations by start address, for the cp.async source check.
static std::map<const unsigned char *, size_t> gallocs;
void gregister(const void *p, size_t bytes) { gallocs[(const unsigned char *)p] = bytes; }
void gunregister(const void *p) { gallocs.erase((const unsigned char *)p); }
void greset() { gallocs.clear(); }
bool gcontains(const void *p, size_t bytes) {
  const unsigned char *s = (const unsigned char *)p;
  auto it = gallocs.upper_bound(s);
  if (it == gallocs.begin()) return false;
  --it;
  return s >= it->first && s + bytes <= it->first + it->second;
}

void cp_check(void *dst, const void *src) {
  unsigned char *d = (unsigned char *)dst;
  if (d < smem_lo || d + 16 > smem_hi) { fprintf(stderr, "cp.async dst outside shared memory\n"); abort(); }
  if (!src || gcontains(src, 16)) return;
  fprintf(stderr, "cp.async src %p outside every allocation\n", src);
  abort();
}

// ---- fibers ----
// emu_switch(save, to) stores the callee-saved registers on the current
// stack, its stack pointer in *save, and resumes the stack `to` (System V
// x86-64: rbx, rbp, r12-r15 are callee-saved; the call itself saves the rest).
extern "C" void emu_switch(void **save, void *to);
asm(R"(
.text
.globl emu_switch
.type emu_switch,@function
emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size emu_switch,.-emu_switch
)");

namespace {
constexpr size_t STACK = 256 << 10, MAX_THREADS = 1024;

struct Fiber {
  void *sp;
  unsigned char *stack; // STACK bytes, the lowest page a guard
  bool done;
  // The barrier the fiber waits at and its generation then: the scheduler
  // resumes the fiber only once that generation has passed.
  const EmuBarrier *waits;
  unsigned wait_gen;
  EmuThread t;
};

Fiber fibers[MAX_THREADS];
Fiber *current;
void *scheduler_sp;
const std::function<void()> *body;
unsigned long progress; // arrivals, releases and exits: a pass without any is a deadlock

// finish runs when a fiber's kernel body returns: the thread leaves its
// barriers, as an exited CUDA thread no longer counts at one.
[[noreturn]] void finish() {
  if (!cp_state.open.empty()) { fprintf(stderr, "uncommitted cp.async at exit\n"); abort(); }
  for (auto &g : cp_state.groups)
    if (!g.empty()) { fprintf(stderr, "cp.async group never waited for\n"); abort(); }
  warp_ctx->bar->arrive_and_drop();
  block_bar->arrive_and_drop();
  current->done = true;
  progress++;
  void *dead;
  emu_switch(&dead, scheduler_sp);
  abort(); // never resumed
}

void fiber_main() {
  (*body)();
  finish();
}

void yield() { emu_switch(&current->sp, scheduler_sp); }

// start prepares f to run fiber_main from the top of its stack: six zero
// registers, then fiber_main as emu_switch's return address, then a zero
// return address for fiber_main (so it starts with the stack alignment of a
// called function).
void start(Fiber &f) {
  if (!f.stack) {
    void *m = mmap(nullptr, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) { perror("emulator: fiber stack"); abort(); }
    mprotect(m, getpagesize(), PROT_NONE); // overflow faults instead of corrupting the next stack
    f.stack = (unsigned char *)m;
  }
  void **top = (void **)(f.stack + STACK);
  top[-1] = nullptr;
  top[-2] = (void *)fiber_main;
  for (int i = 3; i <= 8; i++) top[-i] = nullptr;
  f.sp = top - 8;
  f.done = false;
  f.waits = nullptr;
}
} // namespace

void EmuBarrier::arrive_and_wait() {
  unsigned g = gen;
  progress++;
  if (++count == live) {
    count = 0;
    gen++;
    return;
  }
  current->waits = this;
  current->wait_gen = g;
  yield(); // resumed only after the release
  current->waits = nullptr;
}

void EmuBarrier::arrive_and_drop() {
  live--;
  if (count > 0 && count == live) {
    count = 0;
    gen++;
  }
}

// Poisons shared memory with NaN (0xff bytes) so that reads of unwritten
// elements show, after checking that the previous block wrote nothing past
// the launcher's dynamic byte count (into the canary after it).
static void between_blocks(size_t shared, bool check) {
  if (check)
    for (size_t i = shared; i < shared + CANARY; i++)
      if (smem_raw[i] != 0xff) { fprintf(stderr, "shared memory written past %zu bytes (at %zu)\n", shared, i); abort(); }
  memset(smem_raw, 0xff, shared + CANARY);
  if (__start_emu_shared) memset(__start_emu_shared, 0xff, __stop_emu_shared - __start_emu_shared);
}

void launch(dim3u grid, dim3u block, size_t shared, const std::function<void()> &fn) {
  unsigned threads = block.x * block.y * block.z;
  if (shared > SMEM_CAP) { fprintf(stderr, "shared too big\n"); abort(); }
  if (threads == 0 || threads > MAX_THREADS) { fprintf(stderr, "block of %u threads\n", threads); abort(); }
  if (grid.y > 65535 || grid.z > 65535) { fprintf(stderr, "grid.y or grid.z beyond 65535\n"); abort(); }
  blockDim = block;
  gridDim = grid;
  smem_lo = smem_raw;
  smem_hi = smem_raw + shared;
  body = &fn;
  size_t blocks = (size_t)grid.x * grid.y * grid.z;
  unsigned nwarps = (threads + 31) / 32;
  std::vector<EmuBarrier> warp_bars(nwarps);
  std::vector<WarpCtx> warps(nwarps);
  EmuBarrier bar;
  for (size_t n = 0; n < blocks; n++) {
    between_blocks(shared, n > 0);
    blockIdx = {unsigned(n % grid.x), unsigned(n / grid.x % grid.y), unsigned(n / ((size_t)grid.x * grid.y))};
    bar = EmuBarrier{threads, 0, 0};
    block_bar = &bar;
    for (unsigned w = 0; w < nwarps; w++) {
      warp_bars[w] = EmuBarrier{std::min(32u, threads - 32 * w), 0, 0};
      warps[w] = WarpCtx{};
      warps[w].bar = &warp_bars[w];
    }
    for (unsigned r = 0; r < threads; r++) {
      Fiber &f = fibers[r];
      start(f);
      f.t.idx = {r % block.x, r / block.x % block.y, r / (block.x * block.y)};
      f.t.rank = r;
      f.t.warp = &warps[r / 32];
      f.t.cp = CpState{};
    }
    // Round-robin until every fiber has returned; each runs until it waits.
    for (unsigned left = threads; left > 0;) {
      unsigned long before = progress;
      for (unsigned r = 0; r < threads; r++) {
        Fiber &f = fibers[r];
        if (f.done || (f.waits && f.waits->gen == f.wait_gen)) continue;
        current = &f;
        emu_thread = &f.t;
        emu_switch(&scheduler_sp, f.sp);
        if (f.done) left--;
      }
      if (left > 0 && progress == before) {
        fprintf(stderr, "emulator: block (%u,%u,%u) deadlocked: every live thread waits at a barrier or warp "
                        "collective that the others never reach\n", blockIdx.x, blockIdx.y, blockIdx.z);
        abort();
      }
    }
  }
  between_blocks(shared, blocks > 0); // the last block's canary check
}
