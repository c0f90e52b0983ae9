// allocbench::scalable_resource: a general-purpose resource for many threads, in the style of
// tcmalloc and mimalloc: fine size classes, a cache per thread in front of every class, and a central
// list per class that carves its blocks from large spans obtained from upstream.
//
//   allocbench::scalable_resource r;                        // defaults below
//   auto best = allocbench::make_preset("scalable");         // configs/allocators/scalable.json
//
// Requests:
// - up to max_size() (= max_small, 32 KiB by default) go to the smallest size class >= the size whose
//   blocks are aligned to the requested alignment (a class's block alignment is the largest power of
//   two dividing its size, capped at 4096); allocate(0) gets the smallest class;
// - larger ones, and alignments no class has (above 4096), are large blocks, linked so that release()
//   and the destructor return them: with a user's upstream, one upstream block each; without one,
//   alignments up to 4096 get a page-granular mapping of their own, and freed ones are kept (up to
//   1 MiB per shard of 16, counted in bytes_held) for the next large request of about their length
//   (allocator/large_block_shards.h), the rest still one block each from the default resource;
// - a non-power-of-two alignment throws std::invalid_argument; a size that cannot be served (near
//   SIZE_MAX) throws std::bad_alloc; an upstream that throws propagates; each leaves nothing changed.
//
// Threads (allocator/scalable_heap.h): each thread keeps per-class free lists; allocate and
// deallocate touch only those in the common case, with no lock and no atomic read-modify-write. An
// empty list refills a batch from its class's central list, a full one flushes a batch there; each
// central list has its own spans and locks, so no lock is shared by all classes; it is split into
// shards (central_shards, by default 16), threads taking them round robin and refilling from their
// own, so that threads never get neighbouring blocks of one span (which would share cache lines) and
// each thread's blocks stay on few pages. A block freed by another thread goes into the freeing
// thread's cache, and from there, in a parked batch, to whichever thread next lacks blocks of its class.
// Each thread's lists are bounded per class (growing as the class is used) and in total
// (thread_cache_bytes: at that cap a growing class takes allowance from one that leaves its own
// unused); a thread's cache goes back to the central lists when it exits. The resource may be destroyed while threads that used it still run.
// Caches come from allocator/thread_cache_registry.h, which has room for 255 live instances that keep
// caches: further instances work, but every call goes to the central lists (a class lock per call).
// Upstream calls of different classes may run at once: the upstream must be thread-safe.
//
// Memory: spans are span_bytes (a power of two, larger for large classes so that a span holds at
// least 8 blocks), aligned to their size, from upstream, or, for a resource built without one, from
// its own os_span_source. All threads' caches together are bounded by
// thread_cache_budget. release_unused() gives back every span whose blocks are all free in the
// central lists (after draining the calling thread's cache and idle threads' caches; blocks cached by
// running threads keep their spans); release() and the destructor give back everything.
//
// Statistics: exact counts (each thread counts in its own cache; stats() sums the caches under the
// registry mutex). peak_live_bytes is sampled on the slow paths and raised to the live figure by each
// stats() call: it can miss a short-lived high point by up to one batch per class and thread.
// classes has one entry per size class plus a last one named "large" for the upstream blocks.
// contention_events counts class and large-shard lock acquisitions that found the lock taken.
//
// Checked mode (invalid_free.h; preset "scalable_checked"): a request of up to 4 KiB - 24 (the
// largest 16-aligned class up to 4 KiB, less 24) with an alignment of at most 16 is served from the
// class for bytes + 24, with a 16-byte header in front of
// the pointer (allocator/checked_header.h: size, alignment, state, checksum) and an 8-byte canary
// after the requested end. Its free first asks the span map (allocator/checked_span_map.h) whether
// the pointer is a block start of this resource's spans, then checks the header with one compare and
// moves it to quarantined with one compare-and-swap; the block then waits in the freeing thread's own
// quarantine ring (allocator/checked_quarantine.h, no lock) and goes to that thread's cache when it
// leaves. Larger or more aligned requests, and every request of a resource that also samples guard
// pages, are recorded in the registry (allocator/checked_registry.h) as the other resources' are.
// A freed header block's first checked_fill_bytes are filled and checked when it leaves quarantine
// (allocator/checked_block.h), and so are the registry's blocks of this resource. Threads keep their
// caches. Statistics count a quarantined block as freed; peak_live_bytes may
// include blocks that were waiting in quarantine (16 per thread, and the registry's), and the usable
// figures are those of the larger classes served.
//
// Layout node (pmr/presets.h): { "type": "scalable", <any field of scalable_options by the same
// name, guarded_sample_rate and checked_fill_bytes included>, "checked": bool }. Either "classes" or the spacing fields give the size classes.
#pragma once

#include <cstddef>
#include <memory>
#include <memory_resource>
#include <optional>
#include <string_view>
#include <vector>

#include "allocator/invalid_free.h"
#include "allocator/checked_quarantine.h"
#include "allocator/checked_registry.h"
#include "allocator/checked_span_map.h"
#include "allocator/os_span_source.h"
#include "allocator/scalable_heap.h"
#include "pmr/instrumented_resource.h"
#include "pmr/resource_stats.h"

namespace allocbench {

struct scalable_options {
  // Size classes: an explicit list (ascending multiples of 8, at most 64 KiB, at most 128 classes;
  // the last is max_small), or, when empty, the spacing below.
  std::vector<std::size_t> classes;
  std::size_t small_step = 16;            // classes this far apart (a multiple of 8) ...
  std::size_t small_step_limit = 128;     // ... up to here, then
  std::size_t classes_per_doubling = 4;   // this many per power of two (1..64) ...
  std::size_t max_small = 32 * 1024;      // ... up to this, the largest class (<= 64 KiB)
  std::size_t span_bytes = 64 * 1024;     // smallest span from upstream: a power of two, 4 KiB..1 GiB
  std::size_t batch_bytes = 8 * 1024;     // a refill or flush moves about this many bytes ...
  std::size_t max_batch = 32;             // ... but at most this many blocks (2..1024), at least 2
  std::size_t class_cache_batches = 8;    // a thread caches at most this many batches of a class,
  std::size_t class_burst_batches = 32;   // or up to this many (0..1024), a batch more each time the
  // thread's own use of the class runs the list from empty to full (requests that end and start)
  // ... and at most this many bytes over all its classes, except for that growth: up to its equal
  // share of thread_cache_budget among the threads with a cache (few threads would otherwise leave
  // most of the budget unused; when more threads arrive, refills give the excess back).
  std::size_t thread_cache_bytes = 512 * 1024;
  // What all threads' caches of this resource may hold together (the sum of their bounds), at most
  // 1 GiB; 8 MiB by default (16 threads at thread_cache_bytes). A thread whose class would grow past
  // it takes allowance from its own idle classes, else caches less (frees go to the central lists);
  // release_unused() gives idle threads' allowance back. 0: no thread caches blocks at all.
  std::size_t thread_cache_budget = detail::kDefaultThreadCacheBudget;
  // Each class's central list is split into this many shards (0..64; 0: 16), each with its own spans
  // and lock; thread caches take them round robin and refill from theirs, so threads do not get
  // blocks from the same spans (small blocks sharing a cache line with another thread's).
  std::size_t central_shards = 0;
  bool checked = checked_by_default();    // checked mode (invalid_free.h; see "Checked mode" above)
  // Checked mode: how many bytes at the start of a freed block are filled and compared when it leaves
  // quarantine (a write into a freed block is caught there). 0..4096; 32 by default, where the free
  // writes only lines it reads anyway: a larger bound catches writes further into freed blocks and
  // costs a free one store per cache line it adds (rl_small, 1 thread: 64 costs about 10 %, the whole
  // block about 25 %; README "Checked mode").
  std::size_t checked_fill_bytes = detail::kDefaultCheckedFillBytes;
  // Sampled guard pages (allocator/guarded_pages.h), off by default: about one small allocation in
  // this many (0 = none, at most 2^32) gets pages of its own, ending right before an inaccessible
  // page, and made inaccessible for a while after its free; an overflow past it or a use after its
  // free then dies of SIGSEGV at the faulting instruction, with a report on stderr naming the fault,
  // the block, its size and the resource. With sampling on, the fast path counts each allocation
  // (one decrement) and each free asks (one range compare) whether its block is guarded.
  std::size_t guarded_sample_rate = 0;
};

namespace detail {
// The engine's configuration for these options (also what the malloc front end, malloc/, runs on).
scalable_heap_config heap_config_for(const scalable_options& options);
}  // namespace detail

class scalable_resource final : public instrumented_resource {
 public:
  // Throws std::invalid_argument naming the option when one is out of range.
  // Without an upstream, spans come from the resource's own os_span_source (allocator/os_span_source.h:
  // mapped from the kernel, their pages given back as they empty, so resident memory follows the
  // bytes held), large requests aligned to at most 4096 from mappings of their own (freed ones kept a
  // while, given back by release_unused()), more aligned ones from std::pmr::get_default_resource()
  // as it is at construction.
  explicit scalable_resource(const scalable_options& options = {});
  // With one (not null), spans and large requests both come from `upstream`, which must honour an
  // alignment of span_bytes.
  scalable_resource(const scalable_options& options, std::pmr::memory_resource* upstream);
  ~scalable_resource() override;

  // Whether spans come from the resource's own os_span_source (built without an upstream).
  bool spans_from_os() const noexcept { return spans_ != nullptr; }

  // The largest request served from a size class.
  std::size_t max_size() const noexcept { return heap_.classes().max_small(); }
  // The class sizes, ascending.
  std::vector<std::size_t> class_sizes() const;
  // The usable size a request gets from a class, or 0 when it goes to upstream directly.
  std::size_t usable_size(std::size_t bytes, std::size_t alignment) const noexcept;
  // Bytes per span of the class that serves `bytes` (alignment 1); 0 for large requests.
  std::size_t span_bytes_for(std::size_t bytes) const noexcept;
  // Threads that hold a cache of this resource now.
  std::size_t thread_count() const { return heap_.thread_count(); }
  // The calling thread's current bound on cached blocks of the class serving `bytes`.
  std::size_t local_cache_bound(std::size_t bytes);
  bool checked() const noexcept { return checked_; }
  // The bytes of a freed block checked mode fills and checks (checked_fill_bytes).
  std::size_t checked_fill_bytes() const noexcept { return fill_bytes_; }
  // Allocations that got guard pages so far (guarded_sample_rate > 0), and the guarded blocks held
  // now (live ones and those still in quarantine; 0 after release()).
  std::size_t guarded_count() const noexcept { return std::size_t(heap_.guarded_count()); }
  std::size_t guarded_mappings() const noexcept { return heap_.guarded_mappings(); }
  // Checked mode: gives every quarantined block back to the heap now, checking its fill (a
  // write_after_free report for each overwritten one). Does nothing when unchecked.
  void flush_quarantine() override;

  // Callable from any thread, safe while other threads run: drains the calling thread's cache and
  // those of threads that are idle (asleep in the kernel: blocked on a lock, condition, latch or I/O),
  // whose allowance goes back to thread_cache_budget; then gives parked batches back to their spans and
  // every span whose blocks are all free back to upstream (with an os_span_source, it gives the pages
  // of the spans it kept for reuse back to the kernel as well, and unmaps the freed large blocks it
  // kept). Returns the bytes given back. Live blocks
  // are untouched; blocks cached by running threads keep their spans.
  std::size_t release_unused();
  // Bytes all threads' caches hold now (exact while they are idle; within a batch per class and
  // thread while they run). At most thread_cache_budget after a thread's free.
  std::size_t cached_bytes() const { return heap_.cached_bytes(); }

  resource_stats stats() const override;
  void release() override;
  std::string_view kind() const noexcept override { return "scalable"; }

 private:
  scalable_resource(const scalable_options& options, std::pmr::memory_resource* upstream,
                    std::unique_ptr<detail::os_span_source> spans);
  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;
  [[gnu::noinline]] void* allocate_slow(std::size_t bytes, std::size_t alignment);
  [[gnu::noinline]] void deallocate_slow(void* p, std::size_t bytes, std::size_t alignment);
  // The heap's configuration; for checked mode with headers it first makes span_map_ and recorders_.
  detail::scalable_heap_config checked_heap_config(const scalable_options& options, std::pmr::memory_resource& upstream);
  // Inlined into allocate_slow and deallocate_general: one out-of-line call per checked call.
  [[gnu::always_inline]] inline void* allocate_checked(std::size_t bytes, std::size_t alignment);
  [[gnu::always_inline]] inline void deallocate_checked(void* p, std::size_t bytes, std::size_t alignment);
  // The registry's part of checked mode (large or over-aligned blocks, or a sampling heap's).
  [[gnu::noinline]] void* allocate_registered(std::size_t bytes, std::size_t alignment);
  [[gnu::noinline]] void deallocate_registered(void* p, std::size_t bytes, std::size_t alignment);
  // A free whose header word is not the live one its size and alignment give: classifies and reports.
  [[gnu::noinline]] void report_header_fault(void* p, std::size_t bytes, std::size_t alignment, std::uint64_t word);
  [[gnu::noinline]] void report_overflow(void* p, std::size_t bytes, std::size_t alignment);
  // Whether p is the user pointer of a header block of this resource's spans (touches no block).
  [[gnu::always_inline]] inline bool header_block(const void* p) const noexcept;
  // A header block leaving quarantine: fill checked, word cleared, block to the heap; then a
  // write_after_free report if the fill was overwritten.
  void evict(detail::quarantined_block b);
  // A free that filled this thread's ring: its oldest half leaves (evict_batch).
  [[gnu::noinline]] void evict_oldest(detail::checked_quarantine_ring& ring);
  void evict_batch(const detail::quarantined_block (&batch)[detail::checked_quarantine_ring::kEvictBatch]);
  // write_after_free reports for the blocks of `batch` whose bit is set in `dirty`.
  [[gnu::noinline]] void report_dirty(const detail::quarantined_block (&batch)[detail::checked_quarantine_ring::kEvictBatch],
                                      const std::size_t* alignment, std::uint32_t dirty);
  // One block out of quarantine (evict without the report): true when its fill was overwritten,
  // its alignment then in `alignment`.
  [[gnu::always_inline]] inline bool leave_quarantine(detail::quarantined_block b, std::size_t& alignment) noexcept;
  // The same for a thread that exits with blocks in its ring (reports cannot leave: swallowed).
  static void evict_at_exit(void* self, detail::quarantined_block b) noexcept;
  // A block leaving the registry's quarantine goes back to the heap (the calling thread's cache when it can).
  void give_to_heap(const detail::checked_block& b) noexcept;
  void give_to_heap(void* block, std::size_t need) noexcept;
  void subtract_quarantine(resource_stats& s) const;

  // Checked mode's geometry of class c's spans, for header_block.
  struct span_geometry {
    std::uint64_t magic;   // ~0 / stride + 1: x is a multiple of stride iff x * magic < magic (x < 2^32)
    std::uint64_t first;   // offset of the first block in a span
    std::uint64_t limit;   // blocks per span * stride
  };

  bool checked_;
  bool sampling_;      // guarded_sample_rate > 0
  bool headers_ = false;  // checked, not sampling, and a 16-aligned class holds a header block
  std::size_t fill_bytes_;            // checked_fill_bytes, validated
  std::size_t header_max_bytes_ = 0;  // the largest request served with a header
  std::uint64_t secret_ = 0;          // the header checksums' key (odd); changed by release()
  std::unique_ptr<detail::os_span_source> spans_;  // null when an upstream was given; outlives heap_
  // Checked with headers: where each class's spans are recorded (before heap_, which gives its spans
  // back through recorders_ when it goes).
  std::unique_ptr<detail::checked_span_map> span_map_;
  std::unique_ptr<detail::checked_span_recorder[]> recorders_;
  std::pmr::memory_resource* class_upstreams_[detail::size_class_map::kMaxClasses] = {};
  detail::scalable_heap heap_;
  std::unique_ptr<detail::checked_registry> registry_;  // null unless checked
  span_geometry geometry_[detail::size_class_map::kMaxClasses] = {};
  // After heap_: destroyed first, so that a thread exiting meanwhile still gives its ring to the heap.
  std::optional<detail::checked_quarantines> quarantines_;
};

}  // namespace allocbench
