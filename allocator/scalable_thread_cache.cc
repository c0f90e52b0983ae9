#include "allocator/scalable_thread_cache.h"

namespace allocbench::detail {

scalable_thread_cache::scalable_thread_cache(const size_class_map& map) noexcept {
  for (std::size_t c = 0; c < map.count(); ++c) {
    lists[c].block_alignment = map.alignment(c);
    lists[c].reject_mask = ~map.alignment(c) + 1;
  }
}

void scalable_thread_cache::move_credit(std::size_t c, std::int64_t delta) noexcept {
  std::atomic<std::uint32_t>& seq = move_seq_[c];
  const std::uint32_t s = seq.load(std::memory_order_relaxed);
  seq.store(s + 1, std::memory_order_relaxed);
  // The odd value is seen before either count changes (paired with live_seen's acquire fence) ...
  std::atomic_thread_fence(std::memory_order_release);
  add_relaxed(lists[c].credit, delta);
  add_relaxed(lists[c].credit_moved, delta);
  // ... and both changes before the even one.
  seq.store(s + 2, std::memory_order_release);
}

std::int64_t scalable_thread_cache::live_seen(std::size_t c) const noexcept {
  const std::atomic<std::uint32_t>& seq = move_seq_[c];
  const thread_class_list& l = lists[c];
  while (true) {
    const std::uint32_t before = seq.load(std::memory_order_acquire);
    const std::int64_t credit = l.credit.load(std::memory_order_relaxed);
    const std::int64_t moved = l.credit_moved.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    // A move is a few instructions of the owner's slow path: a retry finds it done.
    if ((before & 1) == 0 && seq.load(std::memory_order_relaxed) == before) return credit - moved;
  }
}

bool scalable_thread_cache::grow(std::size_t c, const thread_cache_policy& policy, std::size_t limit,
                                 std::size_t cap_bytes, bool may_steal) noexcept {
  const std::size_t more = policy.batch[c];
  if (std::size_t(max_of(c)) + more > limit) return false;
  while (max_bytes_ + more * policy.size[c] > cap_bytes) {
    if (!may_steal || !steal_allowance(c, policy)) return false;
  }
  // The resource-wide budget: what this cache gives up from an idle class goes back to it first.
  while (!policy.take_budget(more * policy.size[c])) {
    if (!may_steal || !steal_allowance(c, policy)) return false;
  }
  set_max(c, max_of(c) + std::int64_t(more));
  move_credit(c, std::int64_t(more));
  max_bytes_ += more * policy.size[c];
  return true;
}

bool scalable_thread_cache::steal_allowance(std::size_t c, const thread_cache_policy& policy) noexcept {
  // Looks at a few classes per call, round robin, so that a cache at its byte cap pays a bounded
  // price per refill or flush; a victim gives up one batch of allowance it is not using (its list
  // has at least that many free places), so no block has to move.
  constexpr std::size_t kLooks = 8;
  for (std::size_t look = 0; look < kLooks; ++look) {
    const std::size_t v = next_victim_;
    next_victim_ = (next_victim_ + 1) % kMaxClasses;
    if (v == c) continue;
    const std::int64_t less = policy.batch[v];
    if (less == 0 || max_of(v) < less || lists[v].credit.load(std::memory_order_relaxed) < less) continue;
    shrink(v, policy, less);
    return true;
  }
  return false;
}

void scalable_thread_cache::shrink(std::size_t c, const thread_cache_policy& policy,
                                   std::int64_t less) noexcept {
  set_max(c, max_of(c) - less);
  move_credit(c, -less);
  max_bytes_ -= std::size_t(less) * policy.size[c];
  policy.give_budget(std::size_t(less) * policy.size[c]);
}

bool scalable_thread_cache::overflow_ends_swing(std::size_t c, const thread_cache_policy& policy,
                                                const class_central_list& central) noexcept {
  thread_class_list& l = lists[c];
  class_state& s = state_[c];
  // Empty at a refill since the last overflow, full now. live() > 0: the thread has more of the
  // class out than it freed, so it is not only giving back blocks other threads made. The block
  // freed last came from this thread's own shard.
  const bool swing = s.emptied && l.live() > 0 && max_of(c) >= std::int64_t(policy.max_blocks[c]) &&
                     l.head != nullptr && central.carved_by(l.head, shard);
  s.emptied = false;
  return swing;
}

void scalable_thread_cache::give_back_swing(std::size_t c, const thread_cache_policy& policy) noexcept {
  const std::int64_t over = max_of(c) - std::int64_t(policy.max_blocks[c]);
  // The share (a load and a divide) is looked at only for a list that has an extra to give. The list
  // is empty: every place is free.
  if (over > 0 && max_bytes_ > policy.burst_cap_bytes()) shrink(c, policy, over);
}

void scalable_thread_cache::sample(std::size_t c, const thread_cache_policy& policy,
                                   live_bytes_peak& peak) noexcept {
  class_state& s = state_[c];
  const std::int64_t live = lists[c].live();
  if (live == s.sampled) return;
  peak.add((live - s.sampled) * std::int64_t(policy.size[c]));
  s.sampled = live;
}

void* scalable_thread_cache::refill(std::size_t c, class_central_list& central,
                                    const thread_cache_policy& policy, live_bytes_peak& peak) {
  block_chain chain;
  central.take(chain, policy.batch[c], shard);  // the only call that can throw: nothing changed before it
  give_back_swing(c, policy);  // if threads arrived since the list grew
  state_[c].emptied = true;
  thread_class_list& l = lists[c];
  *static_cast<void**>(chain.tail) = l.head;
  l.head = chain.head;
  move_credit(c, -std::int64_t(chain.count));
  grow(c, policy);  // a miss means the class is in use: let it keep more next time
  sample(c, policy, peak);
  void* p = l.head;
  l.head = *static_cast<void**>(p);
  return p;
}

void scalable_thread_cache::make_room(std::size_t c, class_central_list& central,
                                      const thread_cache_policy& policy, live_bytes_peak& peak) noexcept {
  thread_class_list& l = lists[c];
  const auto credit = [&l] { return l.credit.load(std::memory_order_relaxed); };
  // A thread that frees more of this class than it allocates (a consumer of blocks others made)
  // would only hold them longer with a larger list: once it has a batch's room it flushes instead.
  const bool may_grow = l.live() >= 0 || max_of(c) < std::int64_t(policy.batch[c]);
  // A list that has never held a block nor allocated one, whose thread starts by freeing blocks of
  // this class (objects another thread made and handed over): up to a batch of them go back to their
  // spans (no room here: the caller gives each to the central list). Kept, the next allocation here
  // would reuse one, and its cache line, which the other thread's neighbouring blocks share (Hoard's
  // passive false sharing: stress_false_sharing_passive ran 2x slower in 4 of 9 runs). A thread that
  // only frees starts caching after that first batch.
  const bool hands_back = max_of(c) == 0 && l.allocations.load(std::memory_order_relaxed) == 0 &&
                          -l.live() < std::int64_t(policy.batch[c]);
  // A full swing may take the list past its ordinary bound, but only into allowance no other class
  // holds (see the header).
  const auto grow_now = [&] {
    if (overflow_ends_swing(c, policy, central)) {
      return grow(c, policy, policy.burst_blocks[c], policy.burst_cap_bytes(), false);
    }
    return may_grow && grow(c, policy);
  };
  if (!hands_back && credit() <= 0 && !(grow_now() && credit() > 0)) {
    const std::int64_t now = cached(c);
    // Flush the most recently freed blocks: walking the list from its head to the cut costs one
    // pass over n blocks, where cutting the oldest would walk the whole list.
    const std::int64_t n = now < std::int64_t(policy.batch[c]) ? now : std::int64_t(policy.batch[c]);
    if (n > 0) {
      void* first = l.head;
      void* last = first;
      for (std::int64_t i = 1; i < n; ++i) last = *static_cast<void**>(last);
      l.head = *static_cast<void**>(last);
      central.give_batch(block_chain{first, last, std::size_t(n)}, shard);
      move_credit(c, n);
    }
  }
  sample(c, policy, peak);
}

void scalable_thread_cache::drain(std::size_t c, class_central_list& central) noexcept {
  const std::int64_t n = cached(c);
  if (n > 0) central.give(lists[c].head, std::size_t(n));
  lists[c].head = nullptr;
  move_credit(c, n);  // credit = max
}

void scalable_thread_cache::release_allowance(const thread_cache_policy& policy) noexcept {
  for (std::size_t c = 0; c < kMaxClasses; ++c) {
    const std::int64_t max = max_of(c);
    if (max == 0) continue;
    move_credit(c, -max);  // the list is empty: credit was max
    set_max(c, 0);
  }
  policy.give_budget(max_bytes_);
  max_bytes_ = 0;
}

void scalable_thread_cache::drop_all() noexcept {
  for (std::size_t c = 0; c < kMaxClasses; ++c) {
    lists[c].head = nullptr;
    move_credit(c, cached(c));  // credit = max
  }
}

}  // namespace allocbench::detail
