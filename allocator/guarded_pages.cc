#include "allocator/guarded_pages.h"

#include <sys/mman.h>
#include <unistd.h>

#include <new>

#include "allocator/guarded_fault_handler.h"

namespace allocbench::detail {
namespace {

constexpr int kReserveFlags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
// A slot's data pages: mapped over the reservation without MAP_NORESERVE, so that their mapping
// differs in its flags from the guard pages around it and the kernel never merges the two. Each
// mprotect of a block then changes one mapping of its own: measured on this project's machine, a
// sample cost ~7 us of kernel time when every mprotect split the reservation's single mapping and
// merged it back, ~2.6 us with a mapping per slot. A block smaller than its slot still splits the
// slot's mapping at its first page; a slot of one data page, which never splits, measured ~2.5 us
// (a standalone loop, under load): within the noise, so slots keep room for any small block.
constexpr int kDataFlags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;

// Async-signal-safe formatting into a fixed buffer (no snprintf in a signal handler).
class report_writer {
 public:
  report_writer(char* buf, std::size_t size) : buf_(buf), size_(size) {}
  report_writer& text(const char* s) {
    while (*s != '\0') put(*s++);
    return *this;
  }
  report_writer& decimal(std::uint64_t v) {
    char digits[20];
    int n = 0;
    do {
      digits[n++] = char('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0) put(digits[--n]);
    return *this;
  }
  report_writer& hex(std::uint64_t v) {
    text("0x");
    bool started = false;
    for (int shift = 60; shift >= 0; shift -= 4) {
      const unsigned d = unsigned(v >> shift) & 15u;
      if (d == 0 && !started && shift != 0) continue;
      started = true;
      put("0123456789abcdef"[d]);
    }
    return *this;
  }
  std::size_t length() const { return n_; }

 private:
  void put(char c) {
    if (n_ < size_) buf_[n_++] = c;
  }
  char* buf_;
  std::size_t size_;
  std::size_t n_ = 0;
};

}  // namespace

guarded_pages::guarded_pages(std::size_t max_block_bytes, const char* kind) : kind_(kind) {
  page_ = std::size_t(sysconf(_SC_PAGESIZE));
  const std::size_t data_pages = (max_block_bytes + page_ - 1) / page_;
  slot_bytes_ = (data_pages == 0 ? 1 : data_pages) * page_ + page_;
  reserved_bytes_ = slot_bytes_ * kSlots;
  void* base = mmap(nullptr, reserved_bytes_, PROT_NONE, kReserveFlags, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  base_ = reinterpret_cast<std::uintptr_t>(base);
  if (!map_slot_data()) {
    munmap(base, reserved_bytes_);
    throw std::bad_alloc();
  }
  // Pushed in reverse so that slot 0 is taken first.
  for (std::size_t i = 0; i < kSlots; ++i) free_[i] = std::uint32_t(kSlots - 1 - i);
  free_count_ = kSlots;
  register_guarded_pages(this);
}

guarded_pages::~guarded_pages() {
  unregister_guarded_pages(this);
  munmap(reinterpret_cast<void*>(base_), reserved_bytes_);
}

void* guarded_pages::allocate(std::size_t bytes, std::size_t alignment) noexcept {
  if (bytes == 0) bytes = 1;
  if (bytes > slot_bytes_ - page_ || alignment > page_) return nullptr;
  std::size_t i;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (free_count_ > 0) {
      i = free_[--free_count_];
    } else if (fifo_count_ > 0) {
      i = evict_oldest();  // every slot is live or quarantined: shorten the quarantine by one
    } else {
      return nullptr;  // kSlots guarded blocks are live: this request is not sampled
    }
  }
  // Slot i is this call's alone from here until it is published live: the mprotect runs without the
  // mutex, so that a thread whose system call waits (for the mmap lock, or another sampling thread's
  // TLB shootdown) holds up no other sampling thread.
  const std::uintptr_t end = guard_page(i);
  const std::uintptr_t start = (end - bytes) & ~std::uintptr_t(alignment - 1);
  const std::uintptr_t first_page = start & ~std::uintptr_t(page_ - 1);
  if (mprotect(reinterpret_cast<void*>(first_page), end - first_page, PROT_READ | PROT_WRITE) != 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_[free_count_++] = std::uint32_t(i);
    return nullptr;
  }
  slots_[i].block.store(start, std::memory_order_relaxed);
  slots_[i].bytes.store(bytes, std::memory_order_relaxed);
  slots_[i].state.store(live, std::memory_order_release);
  live_.fetch_add(1, std::memory_order_relaxed);
  return reinterpret_cast<void*>(start);
}

bool guarded_pages::deallocate(void* p) noexcept {
  const std::uintptr_t addr = reinterpret_cast<std::uintptr_t>(p);
  const std::size_t i = (addr - base_) / slot_bytes_;
  slot& s = slots_[i];
  std::uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (s.state.load(std::memory_order_relaxed) != live || s.block.load(std::memory_order_relaxed) != addr) {
      return false;
    }
    // Quarantined before its pages close: a second free of p fails from here on, and a fault in the
    // block (possible only once they are closed) is a use after free.
    s.state.store(quarantined, std::memory_order_release);
    generation = generation_;
  }
  live_.fetch_sub(1, std::memory_order_relaxed);
  // Without the mutex, as in allocate: making pages inaccessible is the system call that waits for
  // every other core running this process to drop their translations.
  protect_block(i);
  // Only now may the slot be evicted and handed out again: its pages are closed, so that a later
  // mprotect that opens them for the next block cannot be undone by this one.
  std::lock_guard<std::mutex> lock(mutex_);
  if (generation != generation_) return true;  // release_all() ran meanwhile and took the slot back
  if (fifo_count_ == kQuarantine) free_[free_count_++] = std::uint32_t(evict_oldest());
  fifo_[(fifo_head_ + fifo_count_) % kQuarantine] = std::uint32_t(i);
  ++fifo_count_;
  return true;
}

void guarded_pages::release_all() noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  free_count_ = 0;
  for (std::size_t i = kSlots; i-- > 0;) {
    slots_[i].state.store(empty, std::memory_order_release);
    slots_[i].block.store(0, std::memory_order_relaxed);
    slots_[i].bytes.store(0, std::memory_order_relaxed);
    free_[free_count_++] = std::uint32_t(i);
  }
  // Live, quarantined and parked slots alike: one fresh PROT_NONE mapping over the reservation gives
  // every page back (munmap would open a hole that another mmap could fill).
  mmap(reinterpret_cast<void*>(base_), reserved_bytes_, PROT_NONE, kReserveFlags | MAP_FIXED, -1, 0);
  // Should mapping a slot's data fail here, that slot is only slower (its mprotect splits), not wrong.
  map_slot_data();
  fifo_head_ = fifo_count_ = 0;
  live_.store(0, std::memory_order_relaxed);
  ++generation_;
}

std::size_t guarded_pages::mapped_slots() const noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  return live_.load(std::memory_order_relaxed) + fifo_count_;
}

std::size_t guarded_pages::live_blocks() const noexcept { return live_.load(std::memory_order_relaxed); }

bool guarded_pages::map_slot_data() noexcept {
  for (std::size_t i = 0; i < kSlots; ++i) {
    void* want = reinterpret_cast<void*>(slot_start(i));
    if (mmap(want, slot_bytes_ - page_, PROT_NONE, kDataFlags, -1, 0) != want) return false;
  }
  return true;
}

void guarded_pages::protect_block(std::size_t i) noexcept {
  const std::uintptr_t first_page = slots_[i].block.load(std::memory_order_relaxed) & ~std::uintptr_t(page_ - 1);
  mprotect(reinterpret_cast<void*>(first_page), guard_page(i) - first_page, PROT_NONE);
}

std::size_t guarded_pages::evict_oldest() noexcept {
  // Parked, not dropped: its pages stay mapped (inaccessible since its free), so that the next block
  // in this slot costs one mprotect and no page fault. A fault there is reported as a wild access
  // naming the slot's last block.
  const std::size_t i = fifo_[fifo_head_];
  fifo_head_ = (fifo_head_ + 1) % kQuarantine;
  --fifo_count_;
  slots_[i].state.store(empty, std::memory_order_release);
  return i;
}

std::size_t guarded_pages::describe_fault(std::uintptr_t addr, char* buf, std::size_t size) const noexcept {
  const std::size_t i = (addr - base_) / slot_bytes_;
  const slot& s = slots_[i];
  const std::uint32_t st = s.state.load(std::memory_order_acquire);
  const std::uintptr_t block = s.block.load(std::memory_order_relaxed);
  const std::size_t bytes = s.bytes.load(std::memory_order_relaxed);
  report_writer w(buf, size);
  w.text("allocbench: guarded block fault: ");
  if (st == live && addr >= block + bytes) {
    w.text("heap-buffer-overflow at ").hex(addr).text(", ").decimal(addr - (block + bytes)).text(" bytes past the end of");
  } else if (st == live) {
    w.text("heap-buffer-underflow at ").hex(addr).text(", ").decimal(block - addr).text(" bytes before");
  } else if (st == quarantined && addr >= block) {
    w.text("heap-use-after-free at ").hex(addr).text(", offset ").decimal(addr - block).text(" in freed");
  } else if (st == quarantined) {
    w.text("heap-use-after-free at ").hex(addr).text(", ").decimal(block - addr).text(" bytes before freed");
  } else {
    w.text("wild access at ").hex(addr).text(" in an unused guard slot, last");
  }
  w.text(" block ").hex(block).text(" of ").decimal(bytes).text(" bytes (resource ").text(kind_).text(")\n");
  return w.length();
}

}  // namespace allocbench::detail
