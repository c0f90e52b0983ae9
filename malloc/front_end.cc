#include "malloc/front_end.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>

#include "malloc/bootstrap_arena.h"
#include "malloc/cxx_runtime.h"
#include "malloc/large_blocks.h"
#include "malloc/layout_config.h"
#include "malloc/os_pages.h"
#include "malloc/span_source.h"
#include "pmr/resource_stats.h"

namespace allocbench::malloc_detail {

detail::scalable_heap* g_heap = nullptr;
constinit page_map g_pages;

namespace {

constinit bootstrap_arena g_boot(g_pages);
constinit span_pages g_span_pages;  // every class's spans

// The thread is inside the engine (or building it): a nested call goes to the bootstrap arena.
struct thread_state {
  bool in_engine = false;
};
constinit thread_local thread_state tls_front;

class engine_scope {
 public:
  engine_scope() noexcept : was_(tls_front.in_engine) { tls_front.in_engine = true; }
  ~engine_scope() { tls_front.in_engine = was_; }
  engine_scope(const engine_scope&) = delete;
  engine_scope& operator=(const engine_scope&) = delete;

 private:
  bool was_;
};

// Storage for what lives as long as the process: built in place on the first call and never
// destroyed (a destructor at exit would pull the heap from under later exit handlers and threads).
template <class T>
struct alignas(T) forever {
  unsigned char bytes[sizeof(T)];
  T* get() noexcept { return reinterpret_cast<T*>(bytes); }
};
forever<detail::stats_counters> g_counters;
forever<page_resource> g_upstream;
forever<span_source> g_span_sources[detail::size_class_map::kMaxClasses];
forever<detail::scalable_heap> g_heap_storage;
std::pmr::memory_resource* g_class_upstreams[detail::size_class_map::kMaxClasses];

std::size_t g_max_small = 0;  // set with g_heap
bool g_print_stats = false;
// Where the statistics go: a copy of stderr taken when the heap is built, because some programs
// close stderr before they exit (coreutils' close_stdout).
int g_stats_fd = STDERR_FILENO;
pthread_mutex_t g_init_mu = PTHREAD_MUTEX_INITIALIZER;

constinit large_blocks g_large(g_pages);

void write_fd(int fd, const char* text) noexcept {
  std::size_t left = std::strlen(text);
  while (left > 0) {
    const ssize_t n = ::write(fd, text, left);
    if (n <= 0) return;
    text += n;
    left -= std::size_t(n);
  }
}

[[noreturn]] void die(const char* what, const char* detail_text = "") noexcept {
  char line[1024];
  std::snprintf(line, sizeof line, "scalable_malloc: %s%s\n", what, detail_text);
  write_fd(STDERR_FILENO, line);
  std::abort();
}

// Builds the heap from the layout; on a bad layout the process cannot go on (malloc cannot throw).
detail::scalable_heap* build_heap() noexcept {
  const char* file = std::getenv("ALLOCBENCH_LAYOUT");
  const char* stats = std::getenv("ALLOCBENCH_STATS");
  g_print_stats = stats != nullptr && std::strcmp(stats, "1") == 0;
  if (g_print_stats) {
    const int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 64);  // high: out of the way of open()'s
    if (fd >= 0) g_stats_fd = fd;
  }
  try {
    detail::scalable_heap_config config = malloc_layout(file);
    const detail::size_class_map classes(config.classes);
    for (std::size_t c = 0; c < classes.count(); ++c) {
      g_class_upstreams[c] = ::new (g_span_sources[c].bytes) span_source(g_pages, g_span_pages, classes.size(c));
    }
    config.class_upstreams = g_class_upstreams;
    auto* counters = ::new (g_counters.bytes) detail::stats_counters();
    auto* upstream = ::new (g_upstream.bytes) page_resource();
    auto* h = ::new (g_heap_storage.bytes) detail::scalable_heap(config, *upstream, *counters);
    g_max_small = classes.max_small();
    return h;
  } catch (const std::exception& e) {
    die(file != nullptr && *file != '\0' ? "ALLOCBENCH_LAYOUT: " : "default layout: ", e.what());
  } catch (...) {
    die("the layout could not be loaded");
  }
}

detail::scalable_heap* heap_or_init() noexcept {
  if (detail::scalable_heap* h = heap()) return h;
  engine_scope scope;  // what building allocates comes from the bootstrap arena
  pthread_mutex_lock(&g_init_mu);
  detail::scalable_heap* h = __atomic_load_n(&g_heap, __ATOMIC_RELAXED);
  if (h == nullptr) {
    h = build_heap();
    __atomic_store_n(&g_heap, h, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&g_init_mu);
  return h;
}

void* fail_enomem() noexcept {
  errno = ENOMEM;
  return nullptr;
}

void* large_allocate(std::size_t bytes, std::size_t alignment, bool zero = false) noexcept {
  if (void* p = g_large.allocate(bytes, alignment, zero)) return p;
  return fail_enomem();
}

// While the thread is inside the engine: the bootstrap arena, or a large block (neither calls it).
void* nested_allocate(std::size_t bytes, std::size_t alignment) noexcept {
  if (alignment <= bootstrap_arena::kMaxAlignment && bytes <= bootstrap_arena::kMaxBytes) {
    if (void* p = g_boot.allocate(bytes, alignment)) return p;
    return fail_enomem();
  }
  return large_allocate(bytes, alignment);
}

std::size_t usable_from_code(const void* p, std::uint64_t code) noexcept {
  if (code < kSmallCodes) return std::size_t(code);
  if (code == page_code::kNone) return 0;
  if ((code & page_code::kLarge) != 0) return std::size_t(code & page_code::kLengthMask);
  return bootstrap_arena::usable_size(p);  // kMeta
}

// memalign's rounding of an alignment; 0 where it is too large (EINVAL).
std::size_t memalign_alignment(std::size_t alignment) noexcept {
  if (alignment <= kMallocAlignment) return kMallocAlignment;
  if (alignment > (std::size_t(1) << 63)) return 0;
  return std::bit_ceil(alignment);
}

// An aligned request (alignment a power of two above kMallocAlignment).
void* aligned_allocate(std::size_t alignment, std::size_t bytes) noexcept {
  if (detail::scalable_heap* h = heap()) {
    if (void* p = h->try_allocate(bytes, alignment)) return p;
  }
  return malloc_slow(bytes, alignment);
}

}  // namespace

void* malloc_slow(std::size_t bytes, std::size_t alignment) noexcept {
  if (tls_front.in_engine) return nested_allocate(bytes, alignment);
  detail::scalable_heap* h = heap_or_init();
  // Past every class (or aligned past every class's blocks): a mapping of its own. The engine's own
  // large path would put a header in front, and its upstream records nothing in the page map.
  if (bytes > g_max_small || h->class_for(bytes, alignment) == detail::size_class_map::npos) {
    return large_allocate(bytes, alignment);
  }
  engine_scope scope;
  try {
    return h->allocate(bytes, alignment);
  } catch (...) {
    return fail_enomem();  // no span could be mapped
  }
}

void free_slow(void* p, std::uint64_t code) noexcept {
  if (code < kSmallCodes) {
    engine_scope scope;  // a thread's first free attaches its cache
    g_heap->deallocate(p, std::size_t(code), 1);
    return;
  }
  if (p == nullptr) return;
  if (code == page_code::kNone) {
    char text[64];
    std::snprintf(text, sizeof text, "%p", p);
    die("free(): invalid pointer ", text);
  }
  if ((code & page_code::kLarge) != 0) return g_large.deallocate(p, code);
  g_boot.deallocate(p);  // kMeta
}

}  // namespace allocbench::malloc_detail

namespace allocbench {

using namespace malloc_detail;

void* sm_calloc(std::size_t count, std::size_t size) noexcept {
  std::size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) return fail_enomem();
  // A large block is zeroed by large_blocks, which knows whether its pages are fresh (zero already).
  if (!tls_front.in_engine && heap_or_init() != nullptr && bytes > g_max_small) {
    return large_allocate(bytes, kMallocAlignment, /*zero=*/true);
  }
  void* p = sm_malloc(bytes);
  if (p != nullptr) std::memset(p, 0, bytes);
  return p;
}

void* sm_realloc(void* p, std::size_t bytes) noexcept {
  if (p == nullptr) return sm_malloc(bytes);
  if (bytes == 0) {
    sm_free(p);
    return nullptr;
  }
  const std::uint64_t code = g_pages.lookup(p);
  if (code == page_code::kNone) die("realloc(): invalid pointer");
  const std::size_t usable = usable_from_code(p, code);
  // Small and still more than half used: it stays (a smaller class would save little).
  if (bytes <= usable && (bytes > usable / 2 || usable <= 2 * kMallocAlignment)) return p;
  if ((code & page_code::kLarge) != 0 && bytes > g_max_small) {
    if (void* q = g_large.resize(p, code, bytes)) return q;
  }
  void* q = sm_malloc(bytes);
  if (q == nullptr) return nullptr;  // errno ENOMEM; p is untouched
  std::memcpy(q, p, bytes < usable ? bytes : usable);
  sm_free(p);
  return q;
}

void* sm_reallocarray(void* p, std::size_t count, std::size_t size) noexcept {
  std::size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) return fail_enomem();
  return sm_realloc(p, bytes);
}

int sm_posix_memalign(void** out, std::size_t alignment, std::size_t bytes) noexcept {
  if (!std::has_single_bit(alignment) || alignment % sizeof(void*) != 0) return EINVAL;
  const int saved = errno;  // posix_memalign reports through its result only
  void* p = alignment <= kMallocAlignment ? sm_malloc(bytes) : aligned_allocate(alignment, bytes);
  errno = saved;
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}

void* sm_memalign(std::size_t alignment, std::size_t bytes) noexcept {
  const std::size_t a = memalign_alignment(alignment);
  if (a == 0) {
    errno = EINVAL;
    return nullptr;
  }
  return a <= kMallocAlignment ? sm_malloc(bytes) : aligned_allocate(a, bytes);
}

void* sm_valloc(std::size_t bytes) noexcept { return aligned_allocate(kPageBytes, bytes); }

void* sm_pvalloc(std::size_t bytes) noexcept {
  const std::size_t n = page_round(bytes == 0 ? 1 : bytes);
  if (n == 0) return fail_enomem();
  return aligned_allocate(kPageBytes, n);
}

std::size_t sm_malloc_usable_size(const void* p) noexcept {
  if (p == nullptr) return 0;
  return usable_from_code(p, g_pages.lookup(p));
}

void* sm_new(std::size_t bytes, std::size_t alignment, bool nothrow) {
  while (true) {
    void* p = alignment <= kMallocAlignment ? sm_malloc(bytes) : aligned_allocate(alignment, bytes);
    if (p != nullptr) [[likely]] return p;
    std::new_handler handler = process_new_handler();
    if (handler == nullptr) {
      if (nothrow) return nullptr;
      throw_bad_alloc();
    }
    if (!nothrow) {
      handler();
      continue;
    }
    try {
      handler();
    } catch (...) {
      return nullptr;
    }
  }
}

sm_stats sm_collect_stats() noexcept {
  sm_stats out;
  out.large_allocations = g_large.allocations();
  out.large_deallocations = g_large.deallocations();
  out.large_bytes_live = g_large.live_bytes();
  out.large_bytes_cached = g_large.cached_bytes();
  out.bootstrap_blocks = g_boot.live_blocks();
  out.bootstrap_bytes = g_boot.bytes_mapped();
  detail::scalable_heap* h = heap();
  if (h == nullptr) return out;
  engine_scope scope;  // filling the figures allocates (vectors, class names)
  try {
    resource_stats s;
    g_counters.get()->fill(s);
    h->fill_stats(s);
    out.allocations = s.allocations;
    out.deallocations = s.deallocations;
    out.live_blocks = s.live_blocks;
    out.bytes_held = s.bytes_held;
    out.peak_bytes_held = s.peak_bytes_held;
    out.contention_events = s.contention_events;
  } catch (...) {
    // No memory for the figures: the large and bootstrap ones stand alone.
  }
  return out;
}

void sm_print_stats() noexcept {
  const sm_stats s = sm_collect_stats();
  char text[768];
  std::snprintf(text, sizeof text,
                "scalable_malloc stats: allocations=%llu deallocations=%llu live_blocks=%llu "
                "span_bytes_held=%llu peak_span_bytes_held=%llu contention_events=%llu "
                "large_allocations=%llu large_deallocations=%llu large_bytes_live=%llu "
                "large_bytes_cached=%llu bootstrap_live_blocks=%llu bootstrap_bytes_mapped=%llu\n",
                (unsigned long long)s.allocations, (unsigned long long)s.deallocations,
                (unsigned long long)s.live_blocks, (unsigned long long)s.bytes_held,
                (unsigned long long)s.peak_bytes_held, (unsigned long long)s.contention_events,
                (unsigned long long)s.large_allocations, (unsigned long long)s.large_deallocations,
                (unsigned long long)s.large_bytes_live, (unsigned long long)s.large_bytes_cached,
                (unsigned long long)s.bootstrap_blocks,
                (unsigned long long)s.bootstrap_bytes);
  write_fd(g_stats_fd, text);
}

bool sm_stats_requested() noexcept { return heap() != nullptr && g_print_stats; }

namespace {

// Every lock a call may hold, in the order calls take them: building the heap, the engine (registry,
// then each class's shards), the bootstrap arena (taken under the registry: its list grows), the
// large blocks' cache (held alone), the span pages' (held alone, by a span source outside the
// engine's locks), the page map's (taken under the arena's: a new chunk's leaf).
void fork_prepare() noexcept {
  pthread_mutex_lock(&g_init_mu);
  if (detail::scalable_heap* h = heap()) h->lock_for_fork();
  g_boot.lock();
  g_large.lock();
  g_span_pages.lock();
  g_pages.lock();
}

// Parent and child alike: the thread that took the locks lets them go (in the child it is the only
// thread, and no other could have changed what they guard since prepare).
void fork_release() noexcept {
  g_pages.unlock();
  g_span_pages.unlock();
  g_large.unlock();
  g_boot.unlock();
  if (detail::scalable_heap* h = heap()) h->unlock_after_fork();
  pthread_mutex_unlock(&g_init_mu);
}

}  // namespace

void sm_install_fork_handlers() noexcept {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, [] { pthread_atfork(fork_prepare, fork_release, fork_release); });
}

}  // namespace allocbench
