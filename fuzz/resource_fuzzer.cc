// Fuzz target: a resource of ours driven by a decoded sequence of calls, checked against
// fuzz/resource_model.h, over fuzz/tracking_upstream.h (which checks what reaches the upstream).
//
// Input: byte 0 picks the resource (scalable, fixed_slab, segregated in each lock mode, best_fit,
// routing over best_fit, routing over its upstream), byte 1 its options (fuzz/fuzzed_layouts.h);
// then one operation per byte b, its kind in b & 7 and a parameter in b >> 3:
//   0-2  allocate a valid request: size from the next two bytes (scaled by the parameter: up to 600 B,
//        64 KiB or 1 MiB), alignment from the next byte (a power of two up to 8192)
//   3    allocate with an invalid alignment (0, 3, 48, ...): std::invalid_argument
//   4    allocate an impossible size (near SIZE_MAX, or above half of it): std::bad_alloc
//   5    deallocate a live block (the next byte picks it)
//   6    hand up to 16 live blocks to a second thread, which checks and frees them, then allocates
//        and frees blocks of its own and exits (its cache goes back while the main thread goes on)
//   7    join that thread and compare stats() with the model; with the parameter's low bit, also
//        release() (then the upstream must hold nothing) or, with the next bit, free everything
// At the end: everything is freed, the statistics compared, the resource destroyed, and the upstream
// must have got every byte back.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "fuzz/byte_reader.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzzed_layouts.h"
#include "fuzz/resource_model.h"
#include "fuzz/tracking_upstream.h"
#include "pmr/instrumented_resource.h"

namespace {

using allocbench::instrumented_resource;
using allocbench::fuzz::byte_reader;
using allocbench::fuzz::live_block;
using allocbench::fuzz::resource_model;

constexpr std::size_t kMaxLive = 256;

// The second thread: checks and frees the blocks it was given, then allocates and frees as many of
// its own (same sizes and alignments), so that its cache holds blocks when it exits.
class cross_thread_freer {
 public:
  ~cross_thread_freer() { join(); }

  bool running() const noexcept { return thread_.joinable(); }

  void start(instrumented_resource& r, std::vector<live_block> blocks) {
    own_pairs_ = 0;
    thread_ = std::thread([&r, this, blocks = std::move(blocks)] {
      for (const live_block& b : blocks) {
        allocbench::fuzz::expect_intact(b);
        r.deallocate(b.p, b.bytes, b.alignment);
      }
      std::vector<live_block> own;
      for (const live_block& b : blocks) {
        try {
          live_block mine{static_cast<std::byte*>(r.allocate(b.bytes, b.alignment)), b.bytes, b.alignment,
                          static_cast<std::uint8_t>(b.tag ^ 0x5a)};
          FUZZ_CHECK(reinterpret_cast<std::uintptr_t>(mine.p) % b.alignment == 0,
                     "second thread: allocate(%zu, %zu) not aligned", b.bytes, b.alignment);
          allocbench::fuzz::fill(mine);
          own.push_back(mine);
        } catch (const std::bad_alloc&) {
          // The same request succeeded on the main thread, but a refill may meet the upstream's limit.
        }
      }
      for (const live_block& b : own) {
        allocbench::fuzz::expect_intact(b);
        r.deallocate(b.p, b.bytes, b.alignment);
      }
      own_pairs_ = own.size();
    });
  }

  // Joins, and returns how many allocate/free pairs the thread made of its own.
  std::uint64_t join() {
    if (!thread_.joinable()) return 0;
    thread_.join();
    return own_pairs_;
  }

 private:
  std::thread thread_;
  std::uint64_t own_pairs_ = 0;
};

std::size_t valid_alignment(std::uint8_t b) { return std::size_t(1) << (b % 14); }

std::size_t invalid_alignment(std::uint8_t b) {
  static constexpr std::size_t kInvalid[] = {0, 3, 6, 12, 48, 100, 4095, 4097, 65535, std::size_t(-1)};
  return kInvalid[b % (sizeof(kInvalid) / sizeof(kInvalid[0]))];
}

std::size_t impossible_size(byte_reader& in) {
  const std::uint8_t how = in.u8();
  const std::size_t delta = in.u16();
  switch (how % 3) {
    case 0: return std::size_t(-1) - delta;          // where size + alignment wraps
    case 1: return std::size_t(-1) / 2 + delta;      // no machine has it
    default: return (std::size_t(1) << 62) + delta * 4096;
  }
}

void run(const std::uint8_t* data, std::size_t size) {
  byte_reader in(data, size);
  const std::uint8_t which = in.u8();
  const std::uint8_t options = in.u8();
  allocbench::fuzz::tracking_upstream upstream;
  {
    std::unique_ptr<instrumented_resource> r = allocbench::fuzz::make_fuzzed_resource(which, options, &upstream);
    resource_model model(*r);
    cross_thread_freer other;
    auto quiet_stats = [&] {
      model.add_foreign(other.join());
      model.check_stats();
    };
    while (!in.empty()) {
      const std::uint8_t op = in.u8();
      const unsigned param = op >> 3;
      switch (op & 7) {
        case 0:
        case 1:
        case 2: {
          std::size_t bytes = in.u16();
          if (param < 16) bytes %= 601;
          else if (param >= 28) bytes *= 16;
          const std::size_t alignment = valid_alignment(in.u8());
          if (model.live_count() < kMaxLive) model.allocate(bytes, alignment, !other.running());
          break;
        }
        case 3:
          model.allocate_refused<std::invalid_argument>(in.u16() % 5000, invalid_alignment(in.u8()),
                                                        !other.running(), "invalid alignment");
          break;
        case 4: {
          const std::size_t bytes = impossible_size(in);
          model.allocate_refused<std::bad_alloc>(bytes, valid_alignment(in.u8()), !other.running(),
                                                 "impossible size");
          break;
        }
        case 5:
          if (model.live_count() > 0) model.deallocate(in.u8() % model.live_count());
          break;
        case 6:
          model.add_foreign(other.join());
          other.start(*r, model.take(param % 16 + 1));
          break;
        case 7:
          quiet_stats();
          if (param & 1) {
            model.release();
            FUZZ_CHECK(upstream.outstanding() == 0, "release() left %zu bytes with the upstream",
                       upstream.outstanding());
          } else if (param & 2) {
            model.free_all();
            model.check_stats();
          }
          break;
      }
    }
    model.add_foreign(other.join());
    model.free_all();
    model.check_stats();
  }
  // The resource is gone: ~tracking_upstream checks that it got every byte back.
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  run(data, size);
  return 0;
}
