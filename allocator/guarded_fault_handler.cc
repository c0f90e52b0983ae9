#include "allocator/guarded_fault_handler.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>

#include "allocator/guarded_pages.h"

namespace allocbench::detail {
namespace {

std::atomic<const guarded_pages*> g_instances[kMaxGuardedInstances];
struct sigaction g_previous_segv;
struct sigaction g_previous_bus;

struct sigaction& previous_for(int sig) noexcept { return sig == SIGBUS ? g_previous_bus : g_previous_segv; }

// Hands a fault that is not ours to whatever was installed before, as if we were not there.
void chain(int sig, siginfo_t* info, void* context) noexcept {
  const struct sigaction& prev = previous_for(sig);
  if ((prev.sa_flags & SA_SIGINFO) != 0 && prev.sa_sigaction != nullptr) {
    prev.sa_sigaction(sig, info, context);
    return;
  }
  if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN && prev.sa_handler != nullptr) {
    prev.sa_handler(sig);
    return;
  }
  // Default (or ignored, which the kernel does not honour for a synchronous fault): restore it and
  // return; the instruction faults again and the default disposition ends the process.
  sigaction(sig, &prev, nullptr);
}

void on_fault(int sig, siginfo_t* info, void* context) {
  const auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
  for (auto& entry : g_instances) {
    const guarded_pages* g = entry.load(std::memory_order_acquire);
    if (g == nullptr || !g->owns(reinterpret_cast<const void*>(addr))) continue;
    char report[512];
    const std::size_t n = g->describe_fault(addr, report, sizeof report);
    for (std::size_t done = 0; done < n;) {
      const ssize_t w = write(STDERR_FILENO, report + done, n - done);
      if (w <= 0) break;
      done += std::size_t(w);
    }
    // Ours: the previous disposition decides what a fault means (by default the process dies).
    sigaction(sig, &previous_for(sig), nullptr);
    return;
  }
  chain(sig, info, context);
}

void install_once() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa = {};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &g_previous_segv);
    sigaction(SIGBUS, &sa, &g_previous_bus);
  });
}

}  // namespace

bool register_guarded_pages(const guarded_pages* instance) noexcept {
  install_once();
  for (auto& entry : g_instances) {
    const guarded_pages* expected = nullptr;
    if (entry.compare_exchange_strong(expected, instance, std::memory_order_acq_rel)) return true;
  }
  return false;
}

void unregister_guarded_pages(const guarded_pages* instance) noexcept {
  for (auto& entry : g_instances) {
    const guarded_pages* expected = instance;
    if (entry.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel)) return;
  }
}

}  // namespace allocbench::detail
