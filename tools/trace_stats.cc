// tools/trace_stats: what a recorded trace looks like.
//
//   tools/bazel run //tools:trace_stats -- trace.abt [--json=out.json] [--png=out.png]
//
// Prints a table (threads, calls, sizes, lifetimes, cross-thread share, peak live bytes); --json
// writes the same with the histograms and the allocation rate over time, --png plots them with
// tools/plot_trace_stats.py (Debian's /usr/bin/python3 with matplotlib).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

#include "trace/trace_file.h"
#include "trace/trace_summary.h"

namespace fs = std::filesystem;

namespace {

std::string user_path(const std::string& p) {
  const char* wd = std::getenv("BUILD_WORKING_DIRECTORY");
  if (p.empty() || fs::path(p).is_absolute() || wd == nullptr) return p;
  return (fs::path(wd) / p).string();
}

}  // namespace

int main(int argc, char** argv) {
  std::string in, json_out, png_out;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a.rfind("--json=", 0) == 0) json_out = user_path(std::string(a.substr(7)));
    else if (a.rfind("--png=", 0) == 0) png_out = user_path(std::string(a.substr(6)));
    else if (a.size() > 0 && a[0] != '-' && in.empty()) in = user_path(std::string(a));
    else {
      std::fprintf(stderr, "usage: trace_stats TRACE.abt [--json=FILE] [--png=FILE]\n");
      return 2;
    }
  }
  if (in.empty()) {
    std::fprintf(stderr, "usage: trace_stats TRACE.abt [--json=FILE] [--png=FILE]\n");
    return 2;
  }
  try {
    const allocbench::trace::trace_summary s = allocbench::trace::summarize_trace(allocbench::trace::read_trace(in));
    std::cout << allocbench::trace::to_table(s);
    if (!png_out.empty() && json_out.empty()) json_out = png_out + ".json";
    if (!json_out.empty()) {
      std::ofstream(json_out) << allocbench::trace::to_json(s).dump(1) << "\n";
    }
    if (!png_out.empty()) {
      const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY");
      const std::string script = (fs::path(ws != nullptr ? ws : ".") / "tools/plot_trace_stats.py").string();
      const std::string cmd = "MPLCONFIGDIR=\"${TMPDIR:-/tmp}/allocbench-mpl\" /usr/bin/python3 '" + script + "' '" +
                              json_out + "' '" + png_out + "'";
      if (std::system(cmd.c_str()) != 0) {
        std::fprintf(stderr, "trace_stats: plotting failed (needs /usr/bin/python3 with matplotlib): %s\n", cmd.c_str());
        return 1;
      }
      std::cout << "wrote " << png_out << "\n";
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "trace_stats: %s\n", e.what());
    return 1;
  }
  return 0;
}
