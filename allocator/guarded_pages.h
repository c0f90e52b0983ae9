// Sampled guard pages (in the manner of GWP-ASan): a few blocks get pages of their own, so that an
// overflow past a block or a use after its free faults at the faulting instruction, and a fault
// handler names the block.
//
// Layout: one reservation per instance (mmap, PROT_NONE), cut into kSlots slots of equal size. A
// slot is its data pages followed by one guard page that is never accessible. A guarded block sits
// at the end of its slot's data pages: its end is the guard page's start rounded down so that its
// start keeps the requested alignment (the gap of under `alignment` bytes is accessible, a small
// overflow into it is not caught). Only the pages the block covers are made accessible; the rest of
// the slot stays PROT_NONE, so an underflow past the block's first page faults too.
//
// At free the block's pages become inaccessible again and the slot joins a FIFO quarantine of
// kQuarantine slots: a use after free faults until the slot is evicted, which parks it (free for
// reuse, its pages still mapped and inaccessible). Empty slots are reused last-in first-out, so a
// sample costs two mprotect calls (accessible at allocation, inaccessible at free) and, once a few
// slots have been used, no page fault and no mmap. Parked pages stay resident until release_all()
// or the destructor: at most the pages that kSlots blocks have covered.
//
// Inside the reservation each slot's data pages are a mapping of their own, whose flags differ from
// the guard pages' so that the kernel keeps them apart: an mprotect then splits at most that slot's
// mapping (at the block's first page) instead of the reservation's, and merges it back at free.
//
// Why one reservation instead of one mapping per block: owns(p) is then one subtract and one
// compare (every free of a sampling heap asks it, inlined: the heap keeps a copy of base() and
// reserved_bytes()), the fault handler finds the slot with a division, and nothing is allocated
// after construction.
//
// Fault handler: installed once per process (SIGSEGV and SIGBUS) when the first instance is made,
// remembering the previous disposition. It looks the address up in a fixed table of instances
// (atomics only, no locks or malloc, so it is async-signal-safe), writes a report with write(2)
// naming the fault (overflow, underflow, use after free), the block, its size and the resource kind,
// restores the previous disposition and returns: the faulting instruction runs again and meets the
// previous disposition (by default the process dies of the signal). Faults outside every instance go
// to the previous handler untouched.
//
// Threads: allocate and deallocate take a mutex (sampled calls are rare) for the slot lists only,
// never across an mprotect: with two sampling threads on two cores, holding it across the system
// call (which waits for the other core's TLB shootdown) put the other thread to sleep on the mutex at
// almost every sample (rl_small at N = 1000, 2 threads: 21.5k context switches per run against 1.7k
// unsampled; README). owns() and the handler read atomics only. release_all() must not run beside
// allocate or deallocate (as release() must not beside any call of its resource).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace allocbench::detail {

class guarded_pages {
 public:
  static constexpr std::size_t kSlots = 256;
  static constexpr std::size_t kQuarantine = 64;

  // Room for blocks of up to max_block_bytes; `kind` (a string with static storage) names the
  // resource in fault reports. Throws std::bad_alloc when the reservation cannot be mapped.
  guarded_pages(std::size_t max_block_bytes, const char* kind);
  ~guarded_pages();  // unmaps everything, live blocks included
  guarded_pages(const guarded_pages&) = delete;
  guarded_pages& operator=(const guarded_pages&) = delete;

  // A guarded block of `bytes` (<= max_block_bytes) aligned to `alignment` (a power of two no larger
  // than a page), or nullptr when no slot is free or the pages cannot be made accessible.
  void* allocate(std::size_t bytes, std::size_t alignment) noexcept;

  // Whether p lies in this instance's reservation (then only deallocate may free it).
  bool owns(const void* p) const noexcept {
    return reinterpret_cast<std::uintptr_t>(p) - base_ < reserved_bytes_;
  }

  // The reservation, which never moves: a sampling heap keeps a copy for its inlined free path.
  std::uintptr_t base() const noexcept { return base_; }
  std::size_t reserved_bytes() const noexcept { return reserved_bytes_; }

  // Frees a block allocate returned and puts its slot in quarantine; false (nothing changed) when p
  // is not the start of a live guarded block (a double free or an interior pointer).
  bool deallocate(void* p) noexcept;

  // Drops every slot's pages, live and parked ones included (release(): every block becomes invalid).
  void release_all() noexcept;

  // Slots holding a block now: live ones and quarantined ones (parked slots keep their pages too).
  std::size_t mapped_slots() const noexcept;
  std::size_t live_blocks() const noexcept;

  // Describes a fault at `addr` (which owns() accepts) into buf; returns the length. Async-signal-safe.
  std::size_t describe_fault(std::uintptr_t addr, char* buf, std::size_t size) const noexcept;

 private:
  enum state : std::uint32_t { empty = 0, live = 1, quarantined = 2 };
  struct slot {
    std::atomic<std::uint32_t> state{empty};
    std::atomic<std::uintptr_t> block{0};
    std::atomic<std::size_t> bytes{0};
  };

  std::uintptr_t slot_start(std::size_t i) const noexcept { return base_ + i * slot_bytes_; }
  std::uintptr_t guard_page(std::size_t i) const noexcept { return slot_start(i) + slot_bytes_ - page_; }
  // Maps every slot's data pages as a mapping of their own (kDataFlags in guarded_pages.cc says why);
  // false when one could not be mapped.
  bool map_slot_data() noexcept;
  // Makes slot i's data pages inaccessible (quarantine).
  void protect_block(std::size_t i) noexcept;
  std::size_t evict_oldest() noexcept;  // caller holds mutex_; returns the slot, now empty (parked)

  std::uintptr_t base_ = 0;
  std::size_t reserved_bytes_ = 0;
  std::size_t page_ = 0;
  std::size_t slot_bytes_ = 0;
  const char* kind_;
  slot slots_[kSlots];

  mutable std::mutex mutex_;  // guards what follows
  std::uint32_t free_[kSlots];  // stack of empty slots
  std::size_t free_count_ = 0;
  std::uint32_t fifo_[kQuarantine];  // quarantined slots, oldest at fifo_head_
  std::size_t fifo_head_ = 0;
  std::size_t fifo_count_ = 0;
  std::uint64_t generation_ = 0;  // release_all() calls so far: a free that raced one does not requeue
  std::atomic<std::size_t> live_{0};
};

}  // namespace allocbench::detail
