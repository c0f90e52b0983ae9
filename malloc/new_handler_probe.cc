// Run by preload_test, plain and with libscalable_malloc.so preloaded (whose libstdc++ is a copy of
// its own): operator new's failure path must call the new_handler this program installed and throw a
// std::bad_alloc that this program's runtime counts, so both runs print the same line.
#include <cstddef>
#include <cstdio>
#include <exception>
#include <new>

namespace {

int g_handler_calls = 0;
void* volatile g_sink = nullptr;  // keeps the requests from being folded away

// Called once, then uninstalls itself: the next attempt throws.
void on_no_memory() {
  ++g_handler_calls;
  std::set_new_handler(nullptr);
}

}  // namespace

int main() {
  constexpr std::size_t kImpossible = std::size_t(1) << 62;
  std::set_new_handler(on_no_memory);
  bool caught = false;
  try {
    g_sink = ::operator new(kImpossible);
  } catch (const std::bad_alloc&) {
    caught = true;
  }
  g_sink = ::operator new(kImpossible, std::nothrow);
  std::printf("handler_calls=%d caught=%d uncaught_after=%d nothrow_null=%d\n", g_handler_calls, int(caught),
              std::uncaught_exceptions(), int(g_sink == nullptr));
  return 0;
}
