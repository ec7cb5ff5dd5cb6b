// Loaded modules and their functions (module.cpp), launched by exec.cpp.
#pragma once
#include "driver.h"

namespace fake {

constexpr int MAX_SHARED_DEFAULT = 48 << 10, MAX_SHARED_OPTIN = 232448;

struct PtxEntry {
  std::string name;
  std::vector<std::string> param_types; // ".u64", ".u32", ".f32", ...
  unsigned max_threads = 1024;          // .maxntid (__launch_bounds__), else the device limit
};

struct Module;
struct Function {
  std::string name;
  const EmuKernel *kernel;
  const PtxEntry *entry;
  Module *module;
  int max_dynamic_shared = MAX_SHARED_DEFAULT; // raised by cuFuncSetAttribute
};

struct Module {
  std::map<std::string, PtxEntry> entries;
  std::vector<Function *> functions;
};

extern std::set<Module *> modules;
extern std::set<Function *> functions;

} // namespace fake
