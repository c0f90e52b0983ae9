// Fuzz target: the layout loader. Bytes -> JSON -> build_resource (pmr/presets.h), as load_resource
// reads a user's file. Properties:
// - text that is not JSON is nlohmann's parse error (never reaches the loader);
// - a layout is either built or rejected with config_error (a bad_alloc is allowed: a resource may
//   claim memory when built); any other exception, a crash or a sanitizer report is a finding;
// - a built resource serves a few requests correctly (aligned, writable, freed) and gives every
//   upstream byte back on release() and on destruction (fuzz/tracking_upstream.h checks it).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <new>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_check.h"
#include "fuzz/tracking_upstream.h"
#include "pmr/config_error.h"
#include "pmr/instrumented_resource.h"
#include "pmr/presets.h"

namespace {

// A few requests of each kind a layout routes: small, class-sized, large, over-aligned.
void exercise(allocbench::instrumented_resource& r) {
  static constexpr std::size_t kRequests[][2] = {{0, 1}, {1, 8}, {24, 16}, {64, 64}, {700, 16},
                                                 {4096, 4096}, {70000, 16}, {300000, 64}};
  void* blocks[sizeof(kRequests) / sizeof(kRequests[0])] = {};
  for (std::size_t i = 0; i < sizeof(kRequests) / sizeof(kRequests[0]); ++i) {
    const auto [bytes, alignment] = kRequests[i];
    try {
      blocks[i] = r.allocate(bytes, alignment);
    } catch (const std::bad_alloc&) {
      continue;  // a layout may serve only some sizes (a lone fixed_slab) or meet the upstream's limit
    }
    FUZZ_CHECK(reinterpret_cast<std::uintptr_t>(blocks[i]) % alignment == 0, "%s: allocate(%zu, %zu) not aligned",
               std::string(r.kind()).c_str(), bytes, alignment);
    std::memset(blocks[i], 0xab, bytes);
  }
  for (std::size_t i = 0; i < sizeof(kRequests) / sizeof(kRequests[0]); ++i) {
    if (blocks[i] != nullptr) r.deallocate(blocks[i], kRequests[i][0], kRequests[i][1]);
  }
  const allocbench::resource_stats s = r.stats();
  FUZZ_CHECK(s.live_blocks == 0, "%s: %llu live blocks after every block was freed", std::string(r.kind()).c_str(),
             static_cast<unsigned long long>(s.live_blocks));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nlohmann::json layout = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (layout.is_discarded()) return 0;
  // 64 MiB: a layout may ask for 1 GiB chunks; refusing them keeps the run in memory.
  allocbench::fuzz::tracking_upstream upstream(std::size_t(64) << 20);
  std::unique_ptr<allocbench::instrumented_resource> r;
  try {
    r = allocbench::build_resource(layout, "layout_fuzzer", &upstream);
  } catch (const allocbench::config_error& e) {
    FUZZ_CHECK(e.file() == "layout_fuzzer", "config_error names file '%s'", e.file().c_str());
    return 0;
  } catch (const std::bad_alloc&) {
    return 0;
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, "build_resource threw something other than config_error: %s", e.what());
  }
  FUZZ_CHECK(r != nullptr, "build_resource returned null");
  exercise(*r);
  r->release();
  FUZZ_CHECK(upstream.outstanding() == 0, "release() left %zu bytes with the upstream", upstream.outstanding());
  exercise(*r);
  r.reset();
  return 0;  // ~tracking_upstream checks that the destructor gave everything back
}
