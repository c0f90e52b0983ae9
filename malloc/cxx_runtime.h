// cxx_runtime: the process's C++ runtime, for operator new's failure path.
//
// libscalable_malloc.so carries its own copy of libstdc++ (linked statically and kept local by
// exports.lds): loading the shared libstdc++ into every C program that preloads us cost about 1 MiB
// of resident memory (its relocated data and start-up code). But a C++ program has its own runtime,
// and two of operator new's duties belong to that one, not to our copy:
//   - the new_handler that the program installed with std::set_new_handler (our copy's is never set);
//   - std::bad_alloc, thrown by the runtime that catches it (a throw by our copy caught by the
//     program's runtime mixes two sets of per-thread exception records).
// So both are looked up in the process (dlsym(RTLD_DEFAULT): our copy's symbols are not exported),
// and only a process without libstdc++ (a C program, or a static one) uses ours.
#pragma once

#include <new>

namespace allocbench::malloc_detail {

// std::get_new_handler() of the process's runtime.
std::new_handler process_new_handler() noexcept;
// Throws std::bad_alloc through the process's runtime.
[[noreturn]] void throw_bad_alloc();

}  // namespace allocbench::malloc_detail
