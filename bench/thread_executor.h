// What one benchmark thread does with one trace op. Kept header-only and small so that the hot loop
// in runner.cc inlines it: a switch on the op kind and one allocator call.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory_resource>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bench/counting_resource.h"
#include "bench/spsc_queue.h"
#include "bench/trace.h"
#include "pmr/tensor_buffer.h"

namespace allocbench::bench {

struct string_view_hash {
  using is_transparent = void;  // lets erase look a key up by string_view, without building a string
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// The ring_handoff wiring of one thread: where its blocks go, where its frees come from.
struct ring_links {
  spsc_queue* outbound = nullptr;
  spsc_queue* inbound = nullptr;
  const std::atomic<bool>* predecessor_done = nullptr;  // the thread that feeds `inbound` has stopped
  const std::atomic<bool>* stop = nullptr;
};

class thread_executor {
 public:
  thread_executor(std::pmr::memory_resource& target, const thread_trace& trace, std::size_t alignment,
                  ring_links ring)
      : target_(&target),
        alignment_(alignment),
        ring_(ring),
        counting_(target),
        slots_(trace.slots, nullptr),
        sizes_(trace.slots, 0),
        map_(&counting_),
        umap_(&counting_) {
    if (trace.batch > 1) {
      batch_ = trace.batch;
      pending_.reserve(batch_);
      received_.resize(batch_);
    }
    tensors_.reserve(trace.slots);
    for (std::uint32_t i = 0; i < trace.slots; ++i) tensors_.emplace_back(&counting_);
    if (trace.uses_buffers) {
      buffers_.reserve(trace.slots);
      for (std::uint32_t i = 0; i < trace.slots; ++i) buffers_.emplace_back(&counting_);  // no memory yet
    }
    if (trace.uses_maps) {
      // Keys longer than the small-string buffer, so that each key is an allocation too.
      keys_.reserve(trace.slots);
      char buf[32];
      for (std::uint32_t i = 0; i < trace.slots; ++i) {
        std::snprintf(buf, sizeof buf, "metadata/key/%08u", i);
        keys_.emplace_back(buf);
      }
    }
  }

  thread_executor(const thread_executor&) = delete;
  thread_executor& operator=(const thread_executor&) = delete;
  ~thread_executor() { release_all(); }

  // Runs one op; false when a ring thread can make no more progress (see receive_or_send).
  bool run(const op& o) {
    switch (o.kind) {
      case op_kind::allocate:
        slots_[o.slot] = allocate(o.size);
        sizes_[o.slot] = o.size;
        return true;
      case op_kind::deallocate:
        deallocate(slots_[o.slot], o.size);
        slots_[o.slot] = nullptr;  // so that release_all knows what is still live
        return true;
      case op_kind::tensor_resize: {
        std::pmr::vector<float>& v = tensors_[o.slot];
        v.resize(o.size);
        if (v.capacity() > 2 * v.size()) v.shrink_to_fit();  // a tensor that shrank gives memory back
        return true;
      }
      case op_kind::tensor_drop:
        std::pmr::vector<float>(&counting_).swap(tensors_[o.slot]);
        return true;
      case op_kind::buffer_resize: {
        // tensor_buffer reallocates to exactly the new shape when it grows, keeping the contents.
        allocbench::tensor_buffer<float>& b = buffers_[o.slot];
        b.resize(allocbench::tensor_shape::flat(o.size));
        if (b.capacity() > 2 * b.size()) b.shrink_to_fit();  // the same give-back rule as the vectors
        return true;
      }
      case op_kind::buffer_grow: {
        // A request's tensor grows a token at a time. Reallocating to the exact size every token would
        // copy the whole tensor per token and time memcpy, not the allocator, so growth past the
        // capacity first reserves twice the capacity (a resize up, then down: shrinking keeps the
        // storage), as the vector it replaces did.
        allocbench::tensor_buffer<float>& b = buffers_[o.slot];
        if (o.size > b.capacity()) {
          b.resize(allocbench::tensor_shape::flat(std::max<std::size_t>(o.size, 2 * b.capacity())));
        }
        b.resize(allocbench::tensor_shape::flat(o.size));
        return true;
      }
      case op_kind::buffer_drop:
        allocbench::tensor_buffer<float>(&counting_).swap(buffers_[o.slot]);
        return true;
      case op_kind::map_insert:
        map_.emplace(std::piecewise_construct, std::forward_as_tuple(std::string_view(keys_[o.slot])),
                     std::forward_as_tuple(std::size_t(o.size), 'm'));
        return true;
      case op_kind::map_erase:
        map_.erase(map_.find(std::string_view(keys_[o.slot])));
        return true;
      case op_kind::umap_insert:
        umap_.emplace(std::piecewise_construct, std::forward_as_tuple(std::string_view(keys_[o.slot])),
                      std::forward_as_tuple(std::size_t(o.size), 'u'));
        return true;
      case op_kind::umap_erase:
        umap_.erase(umap_.find(std::string_view(keys_[o.slot])));
        return true;
      case op_kind::send: return send_or_receive(o.size);
      case op_kind::receive: return receive_or_send(o.size);
      case op_kind::batch_send: return batch_send(o.size);
      case op_kind::batch_receive: return batch_receive(o.size);
    }
    return true;
  }

  // Allocator calls so far: raw ones counted here, the containers' through counting_.
  std::uint64_t allocations() const { return raw_allocations_ + counting_.allocations; }
  std::uint64_t deallocations() const { return raw_deallocations_ + counting_.deallocations; }

  // Frees whatever the timed loop left live (a run stopped by time stops mid-trace).
  void release_all() {
    for (const handed_block& b : pending_) deallocate(b.ptr, b.size);  // a batch not sent yet
    pending_.clear();
    for (std::uint32_t s = 0; s < slots_.size(); ++s) {
      if (slots_[s] != nullptr) {
        deallocate(slots_[s], sizes_[s]);
        slots_[s] = nullptr;
      }
    }
    for (std::pmr::vector<float>& v : tensors_) std::pmr::vector<float>(&counting_).swap(v);
    for (allocbench::tensor_buffer<float>& b : buffers_) allocbench::tensor_buffer<float>(&counting_).swap(b);
    // Swapped with empty ones (not clear()ed), so that the bucket array goes back too.
    decltype(map_)(&counting_).swap(map_);
    decltype(umap_)(&counting_).swap(umap_);
  }

  // Frees every block still queued towards this thread (after all ring threads have stopped).
  void drain_inbound() {
    handed_block b;
    while (ring_.inbound != nullptr && ring_.inbound->try_pop(b)) deallocate(b.ptr, b.size);
  }

 private:
  void* allocate(std::uint32_t size) {
    void* p = target_->allocate(size, alignment_);
    std::memset(p, 0xA5, std::min<std::uint32_t>(size, 16));  // touch: the first use of the block
    ++raw_allocations_;
    return p;
  }
  void deallocate(void* p, std::uint32_t size) {
    target_->deallocate(p, size, alignment_);
    ++raw_deallocations_;
  }

  // A full outbound queue turns a send into a receive and an empty inbound queue a receive into a
  // send, so a thread never waits on a single neighbour. Two neighbours cannot both be stuck (that
  // needs the queue between them both full and empty), so a thread is stuck only when the thread
  // feeding it has stopped; it then stops too, and the ring cannot deadlock.
  bool send_or_receive(std::uint32_t size) {
    for (;;) {
      if (!ring_.outbound->full()) return push(size);
      if (pop()) return true;
      if (stuck()) return false;
    }
  }
  bool receive_or_send(std::uint32_t size) {
    for (;;) {
      if (pop()) return true;
      if (!ring_.outbound->full()) return push(size);
      if (stuck()) return false;
    }
  }
  bool push(std::uint32_t size) {
    ring_.outbound->try_push(handed_block{allocate(size), size});  // cannot fail: only we push
    return true;
  }
  bool pop() {
    handed_block b;
    if (!ring_.inbound->try_pop(b)) return false;
    deallocate(b.ptr, b.size);
    return true;
  }
  // Batches: the same rules with whole batches. A full batch waits for room for all of it (freeing
  // received batches meanwhile), and a receive that finds no whole batch queued allocates instead.
  // The ring cannot deadlock: a thread is stuck only when its outbound queue lacks room for a batch
  // and its inbound holds less than one; batches travel whole, so that inbound is empty, and its
  // feeder (capacity >= batch) has room to send.
  bool batch_send(std::uint32_t size) {
    pending_.push_back(handed_block{allocate(size), size});
    if (pending_.size() < batch_) return true;
    for (;;) {
      if (ring_.outbound->room_for(batch_)) {
        ring_.outbound->push_many(pending_.data(), batch_);
        pending_.clear();
        return true;
      }
      if (pop_batch()) continue;
      if (stuck()) return false;
    }
  }
  bool batch_receive(std::uint32_t size) {
    if (pop_batch()) return true;
    return batch_send(size);
  }
  bool pop_batch() {
    if (!ring_.inbound->holds(batch_)) return false;
    ring_.inbound->pop_many(received_.data(), batch_);
    for (std::size_t i = 0; i < batch_; ++i) deallocate(received_[i].ptr, received_[i].size);
    return true;
  }

  bool stuck() const {
    if (ring_.predecessor_done->load(std::memory_order_acquire) || ring_.stop->load(std::memory_order_relaxed)) {
      return true;
    }
    std::this_thread::yield();  // give the neighbours (often on this core) a chance to move
    return false;
  }

  std::pmr::memory_resource* target_;
  std::size_t alignment_;
  ring_links ring_;
  std::size_t batch_ = 1;                // ring.batch
  std::vector<handed_block> pending_;    // the batch being filled
  std::vector<handed_block> received_;   // a batch being freed
  counting_resource counting_;
  std::uint64_t raw_allocations_ = 0;
  std::uint64_t raw_deallocations_ = 0;
  std::vector<void*> slots_;
  std::vector<std::uint32_t> sizes_;  // each live raw slot's size, for release_all
  std::vector<std::pmr::vector<float>> tensors_;
  std::vector<allocbench::tensor_buffer<float>> buffers_;  // 64-byte aligned (the container's default)
  std::vector<std::string> keys_;
  std::pmr::map<std::pmr::string, std::pmr::string, std::less<>> map_;
  std::pmr::unordered_map<std::pmr::string, std::pmr::string, string_view_hash, std::equal_to<>> umap_;
};

}  // namespace allocbench::bench
