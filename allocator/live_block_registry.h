// The bookkeeping behind checked mode (see invalid_free.h): every live block with the size and
// alignment it was allocated with. Deliberately simple (a mutex and a hash map): checked mode trades
// speed for certainty, and the fast paths never touch this when checking is off.
#pragma once

#include <cstddef>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "allocator/invalid_free.h"

namespace allocbench::detail {

class live_block_registry {
 public:
  explicit live_block_registry(std::string_view resource_kind) : kind_(resource_kind) {}

  // Records a block just handed out.
  void on_allocate(const void* p, std::size_t bytes, std::size_t alignment) {
    std::lock_guard lock(mu_);
    live_[p] = entry{bytes, alignment};
    freed_.erase(p);
  }

  // Checks a free before the resource acts on it. Returns true when the free is valid (the block is
  // then forgotten); otherwise reports it and returns false, and the caller must ignore the free.
  bool on_deallocate(const void* p, std::size_t bytes, std::size_t alignment) {
    invalid_free_kind kind;
    {
      std::lock_guard lock(mu_);
      auto it = live_.find(p);
      if (it != live_.end()) {
        if (it->second.bytes == bytes && it->second.alignment == alignment) {
          live_.erase(it);
          freed_.emplace(p, true);
          return true;
        }
        kind = invalid_free_kind::size_mismatch;
      } else {
        kind = freed_.count(p) ? invalid_free_kind::double_free : invalid_free_kind::foreign_pointer;
      }
    }
    // Outside the lock: the handler may throw or inspect the resource.
    report_invalid_free({kind, p, bytes, alignment, kind_});
    return false;
  }

  // After release(): nothing is live and no address is remembered as freed.
  void clear() {
    std::lock_guard lock(mu_);
    live_.clear();
    freed_.clear();
  }

 private:
  struct entry {
    std::size_t bytes;
    std::size_t alignment;
  };
  std::string_view kind_;
  std::mutex mu_;
  std::unordered_map<const void*, entry> live_;
  // Addresses freed and not reused since, so that a second free says "double free", not "foreign".
  std::unordered_map<const void*, bool> freed_;
};

}  // namespace allocbench::detail
