// //bench:micro: Google Benchmark microbenchmarks of one allocate + deallocate pair, per resource
// (every preset of ours, new_delete_resource, synchronized_pool_resource), size (16..4096 bytes) and
// thread count (1..16). Standard Google Benchmark flags and output, so
//   bazel run //bench:micro -- --benchmark_format=json --benchmark_out=micro.json
// feeds Google Benchmark's compare.py.
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <memory_resource>
#include <string>

#include "pmr/presets.h"

namespace {

// One instance per resource, shared by all threads of a benchmark (as a program would share it).
std::map<std::string, std::unique_ptr<std::pmr::memory_resource>>& owned() {
  static std::map<std::string, std::unique_ptr<std::pmr::memory_resource>> m;
  return m;
}

void allocate_deallocate(benchmark::State& state, std::pmr::memory_resource* r) {
  const std::size_t size = std::size_t(state.range(0));
  for (auto _ : state) {
    void* p = r->allocate(size, alignof(std::max_align_t));
    benchmark::DoNotOptimize(p);
    r->deallocate(p, size, alignof(std::max_align_t));
  }
  state.SetItemsProcessed(state.iterations() * 2);  // allocator calls, as the workload runs count
}

void register_pair(const std::string& name, std::pmr::memory_resource* r) {
  benchmark::RegisterBenchmark(("pair/" + name).c_str(), allocate_deallocate, r)
      ->RangeMultiplier(4)
      ->Range(16, 4096)
      ->ThreadRange(1, 16)
      ->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  for (const std::string& name : allocbench::preset_names()) {
    owned()[name] = allocbench::make_preset(name);
    register_pair(name, owned()[name].get());
  }
  register_pair("new_delete", std::pmr::new_delete_resource());
  owned()["synchronized_pool"] = std::make_unique<std::pmr::synchronized_pool_resource>();
  register_pair("synchronized_pool", owned()["synchronized_pool"].get());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
