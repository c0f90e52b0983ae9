#include "allocator/scalable_heap.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bit>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "allocator/block_pool.h"
#include "allocator/request.h"
#include "allocator/scope_hooks.h"

namespace allocbench::detail {
namespace {

[[noreturn]] void bad_config(const std::string& what) {
  throw std::invalid_argument("scalable_resource: " + what);
}

void validate(const scalable_heap_config& c) {
  if (!std::has_single_bit(c.span_bytes) || c.span_bytes < 4096 || c.span_bytes > kMaxChunkBytes) {
    bad_config("span_bytes must be a power of two between 4096 and " + std::to_string(kMaxChunkBytes) +
               ", got " + std::to_string(c.span_bytes));
  }
  if (c.batch_bytes == 0) bad_config("batch_bytes must be positive, got 0");
  if (c.max_batch < 2 || c.max_batch > 1024) {
    bad_config("max_batch must be 2..1024, got " + std::to_string(c.max_batch));
  }
  if (c.class_cache_batches == 0 || c.class_cache_batches > 1024) {
    bad_config("class_cache_batches must be 1..1024, got " + std::to_string(c.class_cache_batches));
  }
  if (c.class_burst_batches > 1024) {
    bad_config("class_burst_batches must be 0..1024, got " + std::to_string(c.class_burst_batches));
  }
  if (c.central_shards > kMaxCentralShards) {
    bad_config("central_shards must be 0 (" + std::to_string(kDefaultCentralShards) + ") .. " +
               std::to_string(kMaxCentralShards) + ", got " +
               std::to_string(c.central_shards));
  }
  if (c.guarded_sample_rate > (std::size_t(1) << 32)) {
    bad_config("guarded_sample_rate must be at most 2^32, got " + std::to_string(c.guarded_sample_rate));
  }
  if (c.thread_cache_budget > kMaxChunkBytes) {
    bad_config("thread_cache_budget must be at most " + std::to_string(kMaxChunkBytes) + ", got " +
               std::to_string(c.thread_cache_budget));
  }
  if (c.thread_cache_bytes > kMaxChunkBytes) {
    bad_config("thread_cache_bytes must be at most " + std::to_string(kMaxChunkBytes) + ", got " +
               std::to_string(c.thread_cache_bytes));
  }
}

const scalable_heap_config& validated(const scalable_heap_config& c) {
  validate(c);
  return c;
}

// 0 means kDefaultCentralShards. Why one per thread (up to 16) rather than one per CPU: threads that
// share a shard interleave their blocks in its spans, so each thread's live blocks spread over more
// pages and lines. With more threads than cores, each time slice refetches them: on rl_small at 16
// threads on 2 cores, 16 shards instead of 2 ran 10-14 % faster (medians of 6 and 8 matched runs).
// Threads that then lack blocks another thread parked find them by looking at other shards
// (class_central_list::take_parked_nearby), which kept cross_thread as fast as with 2 shards.
std::size_t shard_count(std::size_t configured) {
  return configured != 0 ? configured : kDefaultCentralShards;
}

std::uint64_t next_heap_id() noexcept {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

// Whether thread `tid` of this process is asleep in the kernel ('S': waiting on a futex, a condition,
// a latch, I/O). Such a thread is not inside the heap's fast path, which makes no system call; see
// drain_idle for why that, with the fast path closed first, makes draining its cache safe.
bool asleep_in_kernel(int tid) noexcept {
  // open/read, not stdio: no allocation here (it runs under the registry mutex, and this engine may
  // serve malloc itself).
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[512];
  const ssize_t got = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (got <= 0) return false;
  const std::size_t n = std::size_t(got);
  buf[n] = 0;
  // "tid (comm) S ...": the comm may hold ')' itself, so the state follows the last one.
  const char* last_paren = nullptr;
  for (const char* q = buf; *q != 0; ++q) {
    if (*q == ')') last_paren = q;
  }
  return last_paren != nullptr && last_paren[1] == ' ' && last_paren[2] == 'S';
}

std::uint64_t load(const std::atomic<std::uint64_t>& a) noexcept { return a.load(std::memory_order_relaxed); }
void add(std::atomic<std::uint64_t>& a, std::uint64_t v) noexcept { a.fetch_add(v, std::memory_order_relaxed); }

}  // namespace

scalable_heap::scalable_heap(const scalable_heap_config& config, std::pmr::memory_resource& upstream,
                             stats_counters& counters)
    : id_(next_heap_id()),
      fast_(size_class_map(validated(config).classes), config.fast_path && config.guarded_sample_rate == 0),
      map_(config.classes),
      table_limit_(map_.max_small() < fast_class_lookup::kDirectLimit ? map_.max_small()
                                                                       : fast_class_lookup::kDirectLimit),
      counters_(&counters),
      large_(upstream, counters, config.large_own_pages),
      budget_left_(std::int64_t(config.thread_cache_budget)),
      sample_rate_(std::int64_t(config.guarded_sample_rate)) {
  policy_.budget_left = &budget_left_;
  policy_.budget_bytes = config.thread_cache_budget;
  policy_.caches = &caches_;
  free_bound_ = fast_.bound();
  // A sampling heap's fast paths take the cold branch (its fast_ has bound 0): scalable_heap.h.
  sample_bound_ = sample_rate_ != 0 && config.fast_path ? table_limit_ + 1 : 0;
  if (sample_rate_ != 0) {
    guards_ = std::make_unique<guarded_pages>(map_.max_small(), "scalable");
    guard_base_ = guards_->base();
    guard_bytes_ = guards_->reserved_bytes();
  }
  policy_.total_bytes = config.thread_cache_bytes;
  const std::size_t shards = shard_count(config.central_shards);
  for (std::size_t c = 0; c < map_.count(); ++c) {
    const std::size_t size = map_.size(c);
    std::size_t batch = config.batch_bytes / size;
    if (batch < 2) batch = 2;
    if (batch > config.max_batch) batch = config.max_batch;
    policy_.size[c] = std::uint32_t(size);
    policy_.batch[c] = std::uint32_t(batch);
    policy_.max_blocks[c] = std::uint32_t(batch * config.class_cache_batches);
    policy_.burst_blocks[c] = std::uint32_t(batch * config.class_burst_batches);
    std::pmr::memory_resource& spans = config.class_upstreams != nullptr ? *config.class_upstreams[c]
                                       : config.span_upstream != nullptr  ? *config.span_upstream
                                                                          : upstream;
    central_.push_back(std::make_unique<class_central_list>(size, map_.alignment(c), config.span_bytes,
                                                            spans, counters, shards, batch,
                                                            config.colour_spans));
  }
}

scalable_heap::~scalable_heap() {
  // Caches first, while the central lists exist: their blocks go back there, and no exiting thread
  // can reach this heap afterwards. The members then give every span and large block back.
  destroy_all_caches();
}

void* scalable_heap::allocate(std::size_t bytes, std::size_t alignment) {
  validate_alignment(alignment);
  const std::size_t c = map_.class_for(bytes, alignment);
  if (c == size_class_map::npos) return allocate_large(bytes, alignment);
  if (guards_ != nullptr) [[unlikely]] {
    if (void* p = allocate_sampled(c, bytes, alignment)) return p;
  }
  return allocate_small(c, bytes);
}

void scalable_heap::deallocate(void* p, std::size_t bytes, std::size_t alignment) noexcept {
  if (guards_ != nullptr && guards_->owns(p)) [[unlikely]] return deallocate_guarded(p, bytes, alignment);
  const std::size_t c = map_.class_for(bytes, alignment);
  if (c == size_class_map::npos) return deallocate_large(p, bytes, alignment);
  deallocate_small(c, p, bytes);
}

void* scalable_heap::allocate_small(std::size_t c, std::size_t bytes) {
  if (scalable_thread_cache* tc = local()) {
    // Against a drain by release_unused() on another thread (drain_idle).
    std::lock_guard slow(tc->slow_mu);
    if (tc->reopen_fast) [[unlikely]] reopen_after_drain(*tc);
    thread_class_list& l = tc->lists[c];
    void* p = l.head;
    const bool refilled = p == nullptr;
    if (!refilled) {
      l.head = *static_cast<void**>(p);
    } else {
      p = tc->refill(c, *central_[c], policy_, peak_);
    }
    add_relaxed(l.credit, 1);
    add_relaxed(l.allocations, 1);
    add_relaxed(l.requested_in, bytes);
    // Sampled again with this block counted: a thread whose whole run fits in one batch would
    // otherwise publish nothing above zero, and its peak would read 0.
    if (refilled) tc->sample(c, policy_, peak_);
    unpoison_block(p, map_.size(c));
    return p;
  }
  void* p = central_[c]->take_one(0);  // rare (no cache): any shard serves
  unpoison_block(p, map_.size(c));
  add(extra_[c].allocations, 1);
  add(extra_requested_in_, bytes);
  peak_.add(std::int64_t(map_.size(c)));
  return p;
}

void scalable_heap::deallocate_small(std::size_t c, void* p, std::size_t bytes) noexcept {
  if (scalable_thread_cache* tc = local()) {
    std::lock_guard slow(tc->slow_mu);  // as in allocate_small
    if (tc->reopen_fast) [[unlikely]] reopen_after_drain(*tc);
    thread_class_list& l = tc->lists[c];
    if (!take_credit(l.credit)) {
      tc->make_room(c, *central_[c], policy_, peak_);
      if (!take_credit(l.credit)) {
        // No room: the class has no allowance (the budget is spent, or the thread has just started
        // with a free). Straight to the block's span, not parked: a parked block of one would come
        // back to this thread's next refill, and a block another thread allocated next to its own
        // then shares a cache line between the two (Hoard's passive false sharing).
        poison_free_block(p, map_.size(c));
        *static_cast<void**>(p) = nullptr;
        central_[c]->give(p, 1);
        tc->count_passed_free(c);
        add_relaxed(l.requested_out, bytes);
        return;
      }
    }
    poison_free_block(p, map_.size(c));
    *static_cast<void**>(p) = l.head;
    l.head = p;
    add_relaxed(l.requested_out, bytes);
    return;
  }
  poison_free_block(p, map_.size(c));
  *static_cast<void**>(p) = nullptr;
  central_[c]->give(p, 1);
  add(extra_[c].deallocations, 1);
  add(extra_requested_out_, bytes);
  peak_.add(-std::int64_t(map_.size(c)));
}

void* scalable_heap::allocate_sampled(std::size_t c, std::size_t bytes, std::size_t alignment) noexcept {
  scalable_thread_cache* tc = local();
  if (tc == nullptr || !tc->sample_due()) return nullptr;  // threads without a cache are not sampled
  tc->sampled(sample_rate_);
  void* p = guards_->allocate(bytes, alignment);
  if (p == nullptr) return nullptr;  // every slot taken: served normally
  add(guarded_allocations_, 1);
  add(extra_[c].allocations, 1);
  add(extra_requested_in_, bytes);
  peak_.add(std::int64_t(map_.size(c)));
  return p;
}

void scalable_heap::deallocate_guarded(void* p, std::size_t bytes, std::size_t alignment) noexcept {
  // Not a live guarded block (freed twice, or not a block's start): nothing to do here; checked mode
  // is what reports such frees.
  if (!guards_->deallocate(p)) return;
  const std::size_t c = map_.class_for(bytes, alignment);
  if (c != size_class_map::npos) {
    add(extra_[c].deallocations, 1);
    peak_.add(-std::int64_t(map_.size(c)));
  }
  add(extra_requested_out_, bytes);
}

void* scalable_heap::allocate_large(std::size_t bytes, std::size_t alignment) {
  void* p = large_.allocate(bytes, alignment);  // bad_alloc where bytes + header overflows
  add(large_allocations_, 1);
  add(large_bytes_in_, bytes);
  add(extra_requested_in_, bytes);
  peak_.add(std::int64_t(bytes));
  return p;
}

void scalable_heap::deallocate_large(void* p, std::size_t bytes, std::size_t alignment) noexcept {
  large_.deallocate(p, alignment);
  add(large_deallocations_, 1);
  add(large_bytes_out_, bytes);
  add(extra_requested_out_, bytes);
  peak_.add(-std::int64_t(bytes));
}

scalable_thread_cache* scalable_heap::local() noexcept {
  if (tls_last_thread_cache.heap_id == id_) return static_cast<scalable_thread_cache*>(tls_last_thread_cache.cache);
  void* cache;
  try {
    cache = local_cache();
  } catch (...) {
    return nullptr;  // no memory for a cache: this thread uses the central lists directly
  }
  if (cache != nullptr) {
    tls_last_thread_cache.cache = cache;
    tls_last_thread_cache.heap_id = id_;
    refresh_fast_id();
  }
  return static_cast<scalable_thread_cache*>(cache);
}

void* scalable_heap::create_cache() {
  auto* tc = new scalable_thread_cache(map_);
  // Round robin: threads that start together (and so most likely run at once) get different shards.
  tc->shard = std::uint32_t(next_shard_.fetch_add(1, std::memory_order_relaxed));
  tc->sample_countdown = sample_rate_ - 1;  // rate 1: the first allocation is sampled
  // Runs on the thread that will own the cache (thread_cache_owner::attach_slow).
  tc->owner_tls = &tls_last_thread_cache;
  tc->owner_tid = int(::syscall(SYS_gettid));
  caches_.fetch_add(1, std::memory_order_relaxed);
  return tc;
}

void scalable_heap::fold_into_extras(scalable_thread_cache& tc) noexcept {
  for (std::size_t c = 0; c < map_.count(); ++c) {
    add(extra_[c].allocations, load(tc.lists[c].allocations));
    add(extra_[c].deallocations, tc.lists[c].deallocations());
    add(extra_requested_in_, load(tc.lists[c].requested_in));
    add(extra_requested_out_, load(tc.lists[c].requested_out));
  }
}

void scalable_heap::retire_cache(void* cache, bool thread_exit) noexcept {
  // Under the registry mutex, which fill_stats also holds: the cache leaves the list and its counts
  // reach the extras at once, so a snapshot counts each cache exactly once.
  auto* tc = static_cast<scalable_thread_cache*>(cache);
  // At thread exit this runs on the exiting thread: forget the cache so that a later call on this
  // thread (another thread_local's destructor) cannot reach it.
  if (thread_exit && tls_last_thread_cache.cache == cache) {
    store_fast_id(0);
    tls_last_thread_cache.cache = nullptr;
    tls_last_thread_cache.heap_id = 0;
  }
  // What the thread changed since its last sample is published before its cache goes: left out, a
  // thread that allocated and freed one block left its block in the shared total for good, and
  // every such thread raised the peak by one more block.
  for (std::size_t c = 0; c < map_.count(); ++c) tc->sample(c, policy_, peak_);
  fold_into_extras(*tc);
}

void scalable_heap::destroy_cache(void* cache, bool /*thread_exit*/) noexcept {
  // Whether the thread leaves or the heap goes away, the blocks go back to the central lists (every
  // block is then somewhere a span knows of). Outside the registry mutex: this takes shard locks.
  auto* tc = static_cast<scalable_thread_cache*>(cache);
  for (std::size_t c = 0; c < map_.count(); ++c) tc->drain(c, *central_[c]);
  tc->release_allowance(policy_);
  caches_.fetch_sub(1, std::memory_order_relaxed);
  delete tc;
}

void scalable_heap::reopen_after_drain(scalable_thread_cache& tc) noexcept {
  tc.reopen_fast = false;
  refresh_fast_id();
}

// Draining another thread's cache, whose fast path takes no lock. Under the registry mutex (the cache
// cannot be retired or destroyed meanwhile) and the cache's slow_mu (its owner is not in a slow path
// of this heap), the owner's fast path is closed: its fast_id goes from this heap's id to 0, so that
// its next call takes the slow path, which waits for slow_mu and then opens it again. The owner may
// have read fast_id just before and still be inside a fast path: then it is running or runnable, never
// asleep in the kernel, because the fast path makes no system call. So the cache is drained only if
// the owner is asleep ('S') after the store was made visible; a thread that is running,
// or was not asleep before, is left alone.
bool scalable_heap::drain_idle(scalable_thread_cache& tc) noexcept {
  std::unique_lock slow(tc.slow_mu, std::try_to_lock);
  if (!slow.owns_lock() || !asleep_in_kernel(tc.owner_tid)) return false;
  // seq_cst: the store is visible before the second look at the owner's state (a locked cmpxchg on
  // x86-64, a full barrier); when it fails nothing was stored and the fast path was not open.
  std::uint64_t expected = id_;
  if (std::atomic_ref<std::uint64_t>(tc.owner_tls->fast_id)
          .compare_exchange_strong(expected, 0, std::memory_order_seq_cst)) {
    tc.reopen_fast = true;
  }
  if (!asleep_in_kernel(tc.owner_tid)) return false;  // woke meanwhile: its next slow path reopens
  for (std::size_t c = 0; c < map_.count(); ++c) tc.drain(c, *central_[c]);
  tc.release_allowance(policy_);
  return true;
}

std::size_t scalable_heap::cached_bytes() const {
  std::size_t bytes = 0;
  for_each_cache([&](void* cache) {
    const auto& tc = *static_cast<const scalable_thread_cache*>(cache);
    for (std::size_t c = 0; c < map_.count(); ++c) {
      const std::int64_t n = tc.cached_seen(c);
      if (n > 0) bytes += std::size_t(n) * map_.size(c);
    }
  });
  return bytes;
}

std::size_t scalable_heap::release_unused() noexcept {
  scalable_thread_cache* mine = local();
  if (mine != nullptr) {
    std::lock_guard slow(mine->slow_mu);
    for (std::size_t c = 0; c < map_.count(); ++c) mine->drain(c, *central_[c]);
  }
  for_each_cache_locking([&](void* cache) {
    if (cache != mine) drain_idle(*static_cast<scalable_thread_cache*>(cache));
  });
  std::size_t freed = 0;
  for (auto& central : central_) freed += central->release_unused();
  freed += large_.release_cached();
  return freed;
}

void scalable_heap::release_all() noexcept {
  // Every block handed out becomes invalid and counts as freed: add what is live to the extras'
  // deallocations, so that allocations == deallocations afterwards.
  resource_stats now;
  fill_stats(now);
  for (std::size_t c = 0; c < map_.count(); ++c) {
    add(extra_[c].deallocations, now.classes[c].live_blocks);
  }
  add(extra_requested_out_, now.live_requested_bytes);
  large_deallocations_.store(load(large_allocations_), std::memory_order_relaxed);
  large_bytes_out_.store(load(large_bytes_in_), std::memory_order_relaxed);
  for_each_cache_after_exits([](void* cache) { static_cast<scalable_thread_cache*>(cache)->drop_all(); });
  for (auto& central : central_) central->release_all();
  large_.release_all();
  if (guards_ != nullptr) guards_->release_all();
  peak_.forget_live();
}

void scalable_heap::lock_for_fork() noexcept {
  lock_registry_for_fork();
  for (auto& central : central_) central->lock_all();
}

void scalable_heap::unlock_after_fork() noexcept {
  for (auto& central : central_) central->unlock_all();
  unlock_registry_after_fork();
}

std::size_t scalable_heap::local_max_blocks(std::size_t c) {
  scalable_thread_cache* tc = local();
  return tc != nullptr ? tc->max_blocks(c) : 0;
}

void scalable_heap::fill_stats(resource_stats& out) const {
  const std::size_t n = map_.count();
  std::vector<std::uint64_t> allocs(n), frees(n);
  std::uint64_t req_in = 0, req_out = 0;
  // Caches and extras are read in one critical section of the registry mutex, under which a cache
  // also leaves the list and is folded into the extras (retire_cache): each count is seen exactly
  // once. Each cache's live figure per class is one consistent read (live_seen); its frees are
  // derived from it, so allocations - frees is that figure whatever else the owner did meanwhile.
  // The extras' allocations are read before their frees: a free is always counted after its
  // allocation, so a figure read this way is never above what was live when the allocations were
  // read (read the other way round, a free then an allocation counted both blocks).
  for_each_cache(
      [&](void* cache) {
        const auto& tc = *static_cast<const scalable_thread_cache*>(cache);
        for (std::size_t c = 0; c < n; ++c) {
          const thread_class_list& l = tc.lists[c];
          req_in += load(l.requested_in);
          const std::uint64_t allocated = load(l.allocations);
          allocs[c] += allocated;
          frees[c] += allocated - std::uint64_t(tc.live_seen(c));
          req_out += load(l.requested_out);
        }
      },
      [&] {
        for (std::size_t c = 0; c < n; ++c) allocs[c] += load(extra_[c].allocations);
        req_in += load(extra_requested_in_);
        for (std::size_t c = 0; c < n; ++c) frees[c] += load(extra_[c].deallocations);
        req_out += load(extra_requested_out_);
      });

  const std::uint64_t large_allocs = load(large_allocations_), large_frees = load(large_deallocations_);
  std::uint64_t use_in = load(large_bytes_in_), use_out = load(large_bytes_out_);
  out.allocations = large_allocs;
  out.deallocations = large_frees;
  out.classes.clear();
  out.classes.reserve(n + 1);
  for (std::size_t c = 0; c < n; ++c) {
    out.allocations += allocs[c];
    out.deallocations += frees[c];
    use_in += allocs[c] * map_.size(c);
    use_out += frees[c] * map_.size(c);
    class_stats cs;
    cs.name = std::to_string(map_.size(c));
    cs.block_size = map_.size(c);
    cs.allocations = allocs[c];
    cs.deallocations = frees[c];
    cs.live_blocks = clamped_diff(allocs[c], frees[c]);
    cs.bytes_held = central_[c]->bytes_held();
    out.classes.push_back(std::move(cs));
  }
  class_stats large;
  large.name = "large";
  large.allocations = large_allocs;
  large.deallocations = large_frees;
  large.live_blocks = clamped_diff(large_allocs, large_frees);
  large.bytes_held = large_.bytes_held();
  out.classes.push_back(std::move(large));

  fill_flow_figures(out, req_in, req_out, use_in, use_out);
  // The sampled peak can lag (live_bytes_peak.h): raise it to the exact live figure just computed.
  peak_.observe(std::int64_t(out.live_bytes));
  const std::int64_t peak = peak_.peak();
  out.peak_live_bytes = peak > 0 ? std::uint64_t(peak) : 0;
}

}  // namespace allocbench::detail
