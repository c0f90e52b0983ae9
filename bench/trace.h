// Pre-generated operation traces: everything random is drawn here, from the workload's seed, before
// any timing starts, so that a timed run measures the allocator and not the random-number generator.
//
// A thread's trace is a flat array of small ops that the runner replays in a loop. Each live_set and
// requests trace ends with nothing live (a closing drain), so the replay may wrap around to the start.
#pragma once

#include <cstdint>
#include <vector>

#include "bench/workload_config.h"

namespace allocbench::bench {

enum class op_kind : std::uint8_t {
  allocate,       // slots[slot] = allocate(size), then touch its first bytes
  deallocate,     // deallocate(slots[slot], size)
  tensor_resize,  // tensors[slot].resize(size floats); shrink_to_fit when it shrank below half
  tensor_drop,    // give tensors[slot]'s storage back
  buffer_resize,  // buffers[slot].resize({size}) floats, kept contents; shrink_to_fit below half
  buffer_grow,    // requests: the same, but growing past the capacity reserves twice the capacity
  buffer_drop,    // give buffers[slot]'s storage back
  map_insert,     // map[key(slot)] = string of `size` bytes
  map_erase,      // map.erase(key(slot))
  umap_insert,    // the same on the unordered_map
  umap_erase,
  send,           // ring_handoff: allocate `size` bytes and hand the block to the next thread
  receive,        // ring_handoff: free a block the previous thread handed over
  batch_send,     // ring_handoff with batch > 1: allocate `size` bytes into the batch being filled;
                  // a full batch goes to the next thread whole
  batch_receive,  // ring_handoff with batch > 1: free every block of one batch the previous thread sent
};

struct op {
  op_kind kind;
  std::uint32_t slot;
  std::uint32_t size;  // bytes (allocate, deallocate, send, map inserts) or floats (tensor and buffer resizes)
};

struct thread_trace {
  std::vector<op> ops;
  std::uint32_t slots = 0;  // size of the slot arrays the ops index
  bool uses_maps = false;
  bool uses_buffers = false;  // the executor builds its tensor_buffer slots only when they are used
  bool handoff = false;     // ring_handoff: the runner wires the threads into a ring of queues
  std::uint32_t batch = 1;  // ring_handoff: blocks per handed-over batch (batch_send / batch_receive when > 1)
};

// One trace per thread, for `threads` threads (thread i's generator is seeded from seed and i).
std::vector<thread_trace> generate_traces(const workload_config& w, int threads);

}  // namespace allocbench::bench
