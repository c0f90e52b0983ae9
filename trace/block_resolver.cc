#include "trace/block_resolver.h"

#include <limits>
#include <queue>
#include <unordered_map>

namespace allocbench::trace {
namespace {

std::uint32_t alignment_of(const event& e) {
  if ((e.flags & kFlagAlign) != 0) return std::uint32_t(1) << std::min<std::uint8_t>(e.align_log2, 31);
  return 16;  // malloc's and operator new's guarantee on x86-64
}

}  // namespace

resolved_trace resolve_blocks(const trace_data& t) {
  resolved_trace r;
  const std::size_t n = t.threads.size();
  r.threads.resize(n);
  for (std::size_t i = 0; i < n; ++i) r.threads[i].recorded_thread = t.threads[i].thread;

  // K-way merge by (ticks, stream): a stream's own order is kept even where its clock stepped back.
  using head = std::pair<std::uint64_t, std::size_t>;
  std::priority_queue<head, std::vector<head>, std::greater<head>> heads;
  std::vector<std::size_t> next(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    if (!t.threads[i].events.empty()) heads.push({t.threads[i].events[0].ticks, i});
  }
  std::unordered_map<std::uint64_t, std::uint32_t> live;
  std::uint64_t live_bytes = 0;
  bool first = true;

  auto allocate = [&](std::uint32_t thread, std::uint64_t address, std::uint64_t size, std::uint32_t alignment,
                      std::uint64_t ticks) {
    if (r.blocks.size() >= std::numeric_limits<std::uint32_t>::max()) throw std::length_error("trace has too many blocks");
    const std::uint32_t id = std::uint32_t(r.blocks.size());
    resolved_block b;
    b.size = size;
    b.alignment = alignment;
    b.thread = b.free_thread = thread;
    b.alloc_ticks = ticks;
    r.blocks.push_back(b);
    auto [it, fresh] = live.try_emplace(address, id);
    if (!fresh) {
      // The old block's free was never seen; it stays live to the end (and is freed there).
      ++r.reused_live;
      it->second = id;
    }
    live_bytes += size;
    if (live_bytes > r.peak_live_bytes) {
      r.peak_live_bytes = live_bytes;
      r.peak_live_ticks = ticks;
    }
    return id;
  };
  // Removes `address` from the live set; returns its block or UINT32_MAX when it is not live.
  auto release = [&](std::uint32_t thread, std::uint64_t address, std::uint64_t ticks) {
    auto it = live.find(address);
    if (it == live.end()) {
      ++r.unmatched_frees;
      return std::numeric_limits<std::uint32_t>::max();
    }
    const std::uint32_t id = it->second;
    live.erase(it);
    resolved_block& b = r.blocks[id];
    b.freed = true;
    b.free_thread = thread;
    b.free_ticks = ticks;
    live_bytes -= b.size;
    if (b.thread != thread) ++r.cross_thread;
    return id;
  };

  while (!heads.empty()) {
    const std::size_t s = heads.top().second;
    heads.pop();
    const event& e = t.threads[s].events[next[s]];
    if (++next[s] < t.threads[s].events.size()) heads.push({t.threads[s].events[next[s]].ticks, s});
    if (first) r.first_ticks = e.ticks;
    first = false;
    r.last_ticks = std::max(r.last_ticks, e.ticks);
    std::vector<resolved_op>& ops = r.threads[s].ops;
    const std::uint32_t thread = std::uint32_t(s);
    if (e.kind == event_kind::realloc) {
      ++r.reallocs;
      if (e.address == 0) {  // realloc(NULL, n) allocates
        ops.push_back({resolved_kind::allocate, false, allocate(thread, e.new_address, e.size, 16, e.ticks), 0});
        continue;
      }
      const std::uint32_t old = release(thread, e.address, e.ticks);
      if (e.new_address == 0) {  // realloc(p, 0) freed p
        if (old != std::numeric_limits<std::uint32_t>::max()) {
          ops.push_back({resolved_kind::free, r.blocks[old].thread != thread, old, 0});
          ++r.frees;
        }
        continue;
      }
      const std::uint32_t fresh = allocate(thread, e.new_address, e.size, 16, e.ticks);
      if (old == std::numeric_limits<std::uint32_t>::max()) {
        ops.push_back({resolved_kind::allocate, false, fresh, 0});
      } else {
        ops.push_back({resolved_kind::realloc, r.blocks[old].thread != thread, old, fresh});
      }
    } else if (is_free(e.kind)) {
      const std::uint32_t id = release(thread, e.address, e.ticks);
      if (id == std::numeric_limits<std::uint32_t>::max()) continue;
      ops.push_back({resolved_kind::free, r.blocks[id].thread != thread, id, 0});
      ++r.frees;
    } else {
      ++r.allocations;
      ops.push_back({resolved_kind::allocate, false, allocate(thread, e.address, e.size, alignment_of(e), e.ticks), 0});
    }
  }
  // What nobody freed (including blocks whose address was reused unseen): freed by its own thread last.
  for (std::uint32_t id = 0; id < r.blocks.size(); ++id) {
    if (r.blocks[id].freed) continue;
    ++r.live_at_end;
    r.threads[r.blocks[id].thread].ops.push_back({resolved_kind::free, false, id, 0});
  }
  return r;
}

}  // namespace allocbench::trace
