#include "allocator/fast_class_lookup.h"

namespace allocbench::detail {

fast_class_lookup::fast_class_lookup(const size_class_map& map, bool enabled) noexcept {
  static_assert(size_class_map::kMaxClasses * sizeof(thread_class_list) <= UINT16_MAX,
                "list offsets must fit the table's 16-bit entries");
  const std::size_t limit = map.max_small() < kDirectLimit ? map.max_small() : kDirectLimit;
  for (std::size_t bytes = 0; bytes <= limit; ++bytes) {
    list_offset_[bytes] = std::uint16_t(scalable_thread_cache::list_offset(map.class_of(bytes)));
  }
  bound_ = enabled ? limit + 1 : 0;
}

}  // namespace allocbench::detail
