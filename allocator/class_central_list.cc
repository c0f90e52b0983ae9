#include "allocator/class_central_list.h"

#include <stdexcept>

namespace allocbench::detail {

class_central_list::class_central_list(std::size_t block_size, std::size_t block_alignment,
                                       std::size_t min_span_bytes, std::pmr::memory_resource& upstream,
                                       stats_counters& counters, std::size_t shards,
                                       std::size_t parked_batch, bool colour_spans)
    : counters_(&counters), count_(shards), parked_batch_(parked_batch), lend_(block_alignment % kCacheLine == 0) {
  if (shards == 0) throw std::invalid_argument("class_central_list: at least one shard");
  shards_.reserve(shards);
  for (std::size_t i = 0; i < shards; ++i) {
    shards_.push_back(std::make_unique<shard_state>(block_size, block_alignment, min_span_bytes, upstream,
                                                    counters, std::uint32_t(i), colour_spans));
  }
}

void class_central_list::give(void* head, std::size_t count) noexcept {
  span_arena& any = shards_[0]->arena;  // every shard's spans have the same size
  while (count > 0) {
    const std::uint32_t shard = any.shard_of(head);
    shard_state& s = *shards_[shard];
    // Spans this run emptied beyond the shard's one spare go back upstream after the lock is let go
    // (an upstream with thread caches may take the registry mutex, which release_unused holds while
    // it takes shard locks).
    constexpr std::size_t kMaxReturned = 8;
    void* surplus[kMaxReturned];
    std::size_t returned = 0;
    {
      counted_lock lock(s.mu, *counters_);
      // A surplus left by an earlier run that reached kMaxReturned.
      if (void* span = s.arena.detach_surplus_span()) surplus[returned++] = span;
      // This shard's run: usually the whole chain (a thread flushes what it took from its own shard).
      do {
        void* next = *static_cast<void**>(head);
        if (s.arena.give(head) && returned < kMaxReturned) [[unlikely]] {
          if (void* span = s.arena.detach_surplus_span()) surplus[returned++] = span;
        }
        head = next;
        --count;
      } while (count > 0 && any.shard_of(head) == shard);
      s.note_lendable();
    }
    for (std::size_t i = 0; i < returned; ++i) s.arena.return_span(surplus[i]);
  }
}

void class_central_list::give_batch(const block_chain& batch, std::size_t shard) noexcept {
  if (batch.count > 0 && batch.count <= parked_batch_) {
    const std::size_t own = shard % count_;
    shard_state& s = *shards_[own];
    {
      counted_lock lock(s.mu, *counters_);
      if (s.parked.push(batch)) {
        s.note_parking();
        return;
      }
    }
    if (park_nearby(batch, own)) return;
  }
  give(batch.head, batch.count);  // nowhere to park, or too long to park: onto the spans
}

bool class_central_list::park_nearby(const block_chain& batch, std::size_t own) noexcept {
  for (std::size_t i = 1; i <= kLooks && i < count_; ++i) {
    shard_state& s = *shards_[(own + i) % count_];
    if (s.parking.load(std::memory_order_relaxed) || !s.mu.try_lock()) continue;
    const bool parked = s.parked.push(batch);
    if (parked) s.note_parking();
    s.mu.unlock();
    if (parked) return true;
  }
  return false;
}

std::size_t class_central_list::take(block_chain& out, std::size_t n, std::size_t shard) {
  const std::size_t own = shard % count_;
  shard_state& s = *shards_[own];
  const bool parking = parked_batch_ != 0 && n >= parked_batch_;
  {
    counted_lock lock(s.mu, *counters_);
    if (parking && !s.parked.empty()) {
      const block_chain batch = s.parked.pop();
      s.note_parking();
      out.prepend(batch);
      return batch.count;
    }
    // The spans serve under the same lock when no neighbour has a batch parked (the common case
    // of threads that keep to themselves): one lock per refill instead of two, and no neighbour's
    // lock tried in vain.
    if (s.arena.has_free_block() && !(parking && parked_nearby(own))) return take_from_arena(s, out, n);
  }
  if (parking) {
    if (const std::size_t taken = take_parked_nearby(out, own)) return taken;
    counted_lock lock(s.mu, *counters_);
    if (s.arena.has_free_block()) return take_from_arena(s, out, n);
  }
  if (lend_) {
    if (const std::size_t taken = take_listed_elsewhere(out, n, own)) return taken;
  }
  // A new span is asked for with the shard's lock let go: a thread's exit flushes into this shard,
  // and an upstream that keeps thread caches of its own (a scalable or slab resource) may take the
  // registry mutex on this thread's first call, so holding the lock here could close a cycle. Two
  // threads that both found the shard empty both add a span: one span more than needed, for a while.
  void* span = s.arena.fetch_span();  // throws with nothing changed
  counted_lock lock(s.mu, *counters_);
  s.arena.adopt_span(span);
  return take_from_arena(s, out, n);
}

std::size_t class_central_list::take_from_arena(shard_state& s, block_chain& out, std::size_t n) {
  const std::size_t taken = s.arena.take(out, n);
  s.note_lendable();
  return taken;
}

bool class_central_list::parked_nearby(std::size_t own) const noexcept {
  for (std::size_t i = 1; i <= kLooks && i < count_; ++i) {
    if (shards_[(own + i) % count_]->parking.load(std::memory_order_relaxed)) return true;
  }
  return false;
}

std::size_t class_central_list::take_parked_nearby(block_chain& out, std::size_t own) {
  // The others' locks are only tried (a busy shard is skipped, and the spans serve instead), and
  // only where a batch is parked. Each lock is let go before the next is tried: holding our own
  // while looking elsewhere made other threads' looks fail, and cross_thread at 8 and 16 threads ran
  // slower (scalable/tcmalloc 1.02 -> 0.92 and 1.23 -> 1.01, medians of 8 alternating runs).
  for (std::size_t i = 1; i <= kLooks && i < count_; ++i) {
    shard_state& s = *shards_[(own + i) % count_];
    if (!s.parking.load(std::memory_order_relaxed) || !s.mu.try_lock()) continue;
    const bool found = !s.parked.empty();
    block_chain batch;
    if (found) {
      batch = s.parked.pop();
      s.note_parking();
    }
    s.mu.unlock();
    if (found) {
      out.prepend(batch);
      return batch.count;
    }
  }
  return 0;
}

std::size_t class_central_list::take_listed_elsewhere(block_chain& out, std::size_t n, std::size_t own) noexcept {
  for (std::size_t i = 1; i < count_; ++i) {
    shard_state& s = *shards_[(own + i) % count_];
    if (!s.lendable.load(std::memory_order_relaxed) || !s.mu.try_lock()) continue;
    const std::size_t taken = s.arena.take_listed(out, n);
    s.note_lendable();
    s.mu.unlock();
    if (taken != 0) return taken;
  }
  return 0;
}

void class_central_list::unpark_all() noexcept {
  for (auto& s : shards_) {
    while (true) {
      block_chain batch;
      {
        counted_lock lock(s->mu, *counters_);
        if (s->parked.empty()) break;
        batch = s->parked.pop();
        s->note_parking();
      }
      give(batch.head, batch.count);  // outside this shard's lock: give takes the blocks' shards' locks
    }
  }
}

std::size_t class_central_list::release_unused() noexcept {
  unpark_all();
  std::size_t freed = 0;
  for (auto& s : shards_) {
    counted_lock lock(s->mu, *counters_);
    freed += s->arena.release_unused();
  }
  return freed;
}

void class_central_list::release_all() noexcept {
  for (auto& s : shards_) {
    counted_lock lock(s->mu, *counters_);
    s->parked = transfer_stack{};  // their blocks go with the spans
    s->note_parking();
    s->arena.release_all();
  }
}

std::size_t class_central_list::bytes_held() const noexcept {
  std::size_t bytes = 0;
  for (const auto& s : shards_) bytes += s->arena.bytes_held();
  return bytes;
}

void class_central_list::lock_all() noexcept {
  for (auto& s : shards_) s->mu.lock(*counters_);
}

void class_central_list::unlock_all() noexcept {
  for (auto& s : shards_) s->mu.unlock();
}

}  // namespace allocbench::detail
