// The bridge between the emulated driver (driver.cpp) and the kernels'
// host builds. scripts/fake-cuda.sh generates, for each kernels/cuda module,
// a file that includes the module's source and then this header, and lists
// every .entry of the module's committed PTX with EMU_ENTRY(name). The
// compiler deduces each kernel's parameter types from the function itself,
// so the launch can unpack cuLaunchKernel's parameter pointers into properly
// typed arguments, and the driver can compare the types with the PTX's
// .param list when the module loads.
#pragma once
#include "runtime.h"
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

// One kernel of one module as the driver sees it.
struct EmuKernel {
  const char *name;
  // kinds has one letter per parameter: 'p' pointer, 'i' int, 'u' unsigned,
  // 'f' float, 'l' 64-bit integer.
  const char *kinds;
  // run unpacks params (cuLaunchKernel's array of pointers to each value)
  // and runs the kernel over the grid.
  void (*run)(void **params, dim3u grid, dim3u block, size_t shared);
};

// emu_register adds a module's kernels (called from static initialisers).
void emu_register(const char *module, const EmuKernel *kernels, int n);

template <typename A> constexpr char emu_kind() {
  if constexpr (std::is_pointer_v<A>) return 'p';
  else if constexpr (std::is_same_v<A, float>) return 'f';
  else if constexpr (std::is_integral_v<A> && sizeof(A) == 8) return 'l';
  else if constexpr (std::is_integral_v<A> && std::is_signed_v<A> && sizeof(A) == 4) return 'i';
  else if constexpr (std::is_integral_v<A> && sizeof(A) == 4) return 'u';
  else static_assert(sizeof(A) == 0, "kernel parameter type the emulated driver cannot pass");
}

template <typename F> struct EmuSig;
template <typename... A> struct EmuSig<void (*)(A...)> {
  static constexpr char kinds[] = {emu_kind<A>()..., 0};

  template <typename T> static T load(void *slot) {
    T v;
    memcpy(&v, slot, sizeof v); // the driver reads sizeof(param) bytes from each pointer
    return v;
  }
  template <auto F, size_t... I>
  static void run_with(void **params, dim3u grid, dim3u block, size_t shared, std::index_sequence<I...>) {
    std::tuple<A...> args{load<A>(params[I])...};
    launch(grid, block, shared, [&] { std::apply(F, args); });
  }
  template <auto F> static void run(void **params, dim3u grid, dim3u block, size_t shared) {
    run_with<F>(params, grid, block, shared, std::index_sequence_for<A...>{});
  }
};

#define EMU_ENTRY(name) \
  EmuKernel { #name, EmuSig<decltype(&name)>::kinds, &EmuSig<decltype(&name)>::run<&name> }
