#include "malloc/cxx_runtime.h"

#include <dlfcn.h>

namespace allocbench::malloc_detail {
namespace {

using get_handler_fn = std::new_handler (*)();
using throw_fn = void (*)();

// Looked up on every call: only operator new's failure path gets here, and a library loaded since
// the last call (dlopen of a C++ plugin) may have brought the runtime.
template <class F>
F process_symbol(const char* name) noexcept {
  return reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
}

}  // namespace

std::new_handler process_new_handler() noexcept {
  if (auto get = process_symbol<get_handler_fn>("_ZSt15get_new_handlerv")) return get();
  return std::get_new_handler();
}

void throw_bad_alloc() {
  if (auto thrower = process_symbol<throw_fn>("_ZSt17__throw_bad_allocv")) thrower();  // does not return
  throw std::bad_alloc();
}

}  // namespace allocbench::malloc_detail
