#include "bench/trace_workload.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <type_traits>

#include "pmr/config_error.h"
#include "trace/trace_file.h"

namespace allocbench::bench {
namespace {

trace::trace_data read_checked(const std::string& config, const std::string& path, bool keep_events) {
  try {
    return trace::read_trace(path, keep_events);
  } catch (const trace::trace_error& e) {
    throw config_error(config, "path", e.what());
  }
}

}  // namespace

workload_config parse_trace_workload(const json_fields& root, workload_config w) {
  root.reject_unknown({"name", "description", "pattern", "path", "passes"});
  w.pattern = workload_pattern::trace;
  const std::string path = root.string("path");
  if (path.empty()) root.fail("path", "must name a trace file");
  const std::filesystem::path p(path);
  w.trace_path = p.is_absolute() ? path : (std::filesystem::path(w.source).parent_path() / p).lexically_normal().string();
  if (!std::filesystem::exists(w.trace_path)) root.fail("path", "no such file: " + w.trace_path);
  w.trace_passes = root.size_or("passes", 1);
  if (w.trace_passes < 1 || w.trace_passes > 1000) root.fail("passes", "must be 1..1000");
  // Checked whole, events counted but not kept: the heap of a backend stays as it was.
  const trace::trace_data t = read_checked(w.source, w.trace_path, false);
  if (t.threads.empty() || t.threads.size() > 256) {
    root.fail("path", w.trace_path + " has " + std::to_string(t.threads.size()) + " threads (a replay needs 1..256)");
  }
  w.threads = {int(t.threads.size())};
  w.ops_per_thread = 1;
  w.min_seconds = 0;
  return w;
}

namespace {

// The resolved trace crosses from the resolving child to the replaying parent as raw arrays.
static_assert(std::is_trivially_copyable_v<trace::resolved_block> && std::is_trivially_copyable_v<trace::resolved_op>);

struct scalars {
  std::uint64_t allocations, frees, reallocs, cross_thread, live_at_end, unmatched_frees, reused_live,
      peak_live_bytes, peak_live_ticks, first_ticks, last_ticks, blocks, threads;
};

bool put(std::FILE* f, const void* p, std::size_t n) { return n == 0 || std::fwrite(p, 1, n, f) == n; }
bool get(std::FILE* f, void* p, std::size_t n) { return n == 0 || std::fread(p, 1, n, f) == n; }

bool save(std::FILE* f, const trace::resolved_trace& t) {
  const scalars s{t.allocations, t.frees, t.reallocs, t.cross_thread, t.live_at_end, t.unmatched_frees, t.reused_live,
                  t.peak_live_bytes, t.peak_live_ticks, t.first_ticks, t.last_ticks, t.blocks.size(), t.threads.size()};
  bool ok = put(f, &s, sizeof s) && put(f, t.blocks.data(), t.blocks.size() * sizeof(trace::resolved_block));
  for (const trace::resolved_thread& th : t.threads) {
    const std::uint64_t head[2] = {th.recorded_thread, th.ops.size()};
    ok = ok && put(f, head, sizeof head) && put(f, th.ops.data(), th.ops.size() * sizeof(trace::resolved_op));
  }
  return ok && std::fflush(f) == 0;
}

bool restore(std::FILE* f, trace::resolved_trace& t) {
  scalars s;
  if (!get(f, &s, sizeof s) || s.threads > 256) return false;
  t.allocations = s.allocations, t.frees = s.frees, t.reallocs = s.reallocs, t.cross_thread = s.cross_thread;
  t.live_at_end = s.live_at_end, t.unmatched_frees = s.unmatched_frees, t.reused_live = s.reused_live;
  t.peak_live_bytes = s.peak_live_bytes, t.peak_live_ticks = s.peak_live_ticks;
  t.first_ticks = s.first_ticks, t.last_ticks = s.last_ticks;
  t.blocks.resize(s.blocks);
  if (!get(f, t.blocks.data(), s.blocks * sizeof(trace::resolved_block))) return false;
  t.threads.resize(s.threads);
  for (trace::resolved_thread& th : t.threads) {
    std::uint64_t head[2];
    if (!get(f, head, sizeof head)) return false;
    th.recorded_thread = std::uint32_t(head[0]);
    th.ops.resize(head[1]);
    if (!get(f, th.ops.data(), head[1] * sizeof(trace::resolved_op))) return false;
  }
  return true;
}

}  // namespace

// Reading and resolving a trace allocates (and frees) several times the replay's own arrays. Done
// in this process, that memory would stay in the heap of the allocator under test (peers keep what
// is freed) and the replay would reuse it, hiding the memory it holds. So a forked child resolves
// and hands back only the result, which this process reads into arrays of exactly its size.
std::string write_trace_workload(const std::string& trace_file, const std::filesystem::path& dir) {
  const std::filesystem::path trace = std::filesystem::absolute(trace_file);
  const std::filesystem::path out = dir / (trace.stem().string() + ".workload.json");
  const nlohmann::json doc = {{"name", trace.stem().string()},
                              {"description", "replay of " + trace.string()},
                              {"pattern", "trace"},
                              {"path", trace.string()}};
  std::ofstream f(out);
  f << doc.dump(2) << "\n";
  if (!f) throw std::runtime_error(out.string() + ": cannot write the workload for --trace");
  return out.string();
}

std::shared_ptr<const trace::resolved_trace> load_replay(const workload_config& w) {
  std::FILE* f = std::tmpfile();
  const pid_t child = f != nullptr ? fork() : -1;
  if (child == 0) {
    bool ok = false;
    try {
      ok = save(f, trace::resolve_blocks(read_checked(w.source, w.trace_path, true)));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
    }
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  if (child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    auto t = std::make_shared<trace::resolved_trace>();
    std::rewind(f);
    const bool ok = restore(f, *t);
    std::fclose(f);
    if (ok) return t;
    throw std::runtime_error(w.trace_path + ": the resolved trace could not be read back");
  }
  if (f != nullptr) std::fclose(f);
  if (child > 0) throw std::runtime_error(w.trace_path + ": resolving the trace failed");
  return std::make_shared<const trace::resolved_trace>(trace::resolve_blocks(read_checked(w.source, w.trace_path, true)));  // no fork
}

}  // namespace allocbench::bench
