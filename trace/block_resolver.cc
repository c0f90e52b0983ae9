#include "trace/block_resolver.h"

#include <algorithm>
#include <limits>
#include <set>
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
    // A free stamped with its thread's older reading (trace_format.h) is not dated before the
    // allocation it ends: a lifetime is never negative.
    b.free_ticks = std::max(ticks, b.alloc_ticks);
    live_bytes -= b.size;
    if (b.thread != thread) ++r.cross_thread;
    return id;
  };

  // Whether an event can come next: it frees what is live and allocates where nothing is.
  auto ready = [&](const event& e) {
    if (e.kind == event_kind::realloc) {
      if (e.address != 0 && live.count(e.address) == 0) return false;
      return e.new_address == 0 || e.new_address == e.address || live.count(e.new_address) == 0;
    }
    return is_free(e.kind) ? live.count(e.address) != 0 : live.count(e.address) == 0;
  };

  // K-way merge of the streams, each in its own order. An event happened between its ticks and its
  // window's end (the stream's next larger reading: trace_format.h, "How exact the times are"). The
  // head with the earliest ticks goes next unless it is not ready; then the earliest ready head
  // that may have happened before it (its ticks not after the blocked head's window end) goes
  // first: a free whose block another thread allocated within the clock's uncertainty then follows
  // that allocation. A head that nothing can make ready (a free of an address allocated before the
  // recording) waits only until its window has passed. Among exact readings (every event stamped)
  // only such heads are ever passed over, and only by what is not later than their stream's next
  // event.
  const std::size_t n_streams = n;
  std::vector<std::vector<std::uint64_t>> window_end(n_streams);
  for (std::size_t i = 0; i < n_streams; ++i) {
    const std::vector<event>& ev = t.threads[i].events;
    std::vector<std::uint64_t>& w = window_end[i];
    w.resize(ev.size());
    for (std::size_t k = ev.size(); k-- > 0;) {
      if (k + 1 == ev.size()) w[k] = std::numeric_limits<std::uint64_t>::max();
      else if (ev[k + 1].ticks > ev[k].ticks) w[k] = ev[k + 1].ticks;
      else if (ev[k + 1].ticks == ev[k].ticks) w[k] = w[k + 1];
      else w[k] = ev[k].ticks;  // the clock stepped back: take the reading as exact
    }
  }
  std::vector<std::size_t> next(n_streams, 0);
  using head = std::pair<std::uint64_t, std::size_t>;
  std::set<head> by_ticks;
  auto push_head = [&](std::size_t s) {
    if (next[s] < t.threads[s].events.size()) by_ticks.insert({t.threads[s].events[next[s]].ticks, s});
  };
  auto choose = [&]() {
    const std::size_t first_stream = by_ticks.begin()->second;
    if (ready(t.threads[first_stream].events[next[first_stream]])) return first_stream;
    const std::uint64_t end = window_end[first_stream][next[first_stream]];
    for (const head& h : by_ticks) {
      if (h.first > end) break;
      if (ready(t.threads[h.second].events[next[h.second]])) return h.second;
    }
    return first_stream;
  };
  for (std::size_t i = 0; i < n_streams; ++i) push_head(i);

  while (!by_ticks.empty()) {
    const std::size_t s = choose();
    by_ticks.erase({t.threads[s].events[next[s]].ticks, s});
    const event& e = t.threads[s].events[next[s]++];
    push_head(s);
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
