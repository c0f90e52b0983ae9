// Runs the //bench:programs binary from a test's runfiles with the given flags and collects what it
// printed and wrote, for the end-to-end tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/programs/child_process.h"
#include "bench/runfile_path.h"

namespace allocbench::bench::programs::testing {

struct runner_output {
  child_result result;
  std::string out, err, csv;
};

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// `name` names the run's directory under TEST_TMPDIR; --out points there.
inline runner_output run_programs(const std::string& name, std::vector<std::string> flags) {
  const std::filesystem::path dir = std::filesystem::path(std::getenv("TEST_TMPDIR")) / name;
  std::filesystem::create_directories(dir);
  child_spec spec;
  spec.argv = {runfile("", "bench/programs/programs"), "--out=" + (dir / "out").string()};
  spec.argv.insert(spec.argv.end(), flags.begin(), flags.end());
  spec.cwd = std::filesystem::current_path();
  spec.stdout_file = dir / "stdout";
  spec.stderr_file = dir / "stderr";
  spec.env = {{"TMPDIR", dir.string()}};
  spec.timeout_seconds = 300;
  runner_output o{run_child(spec), "", "", ""};
  o.out = read_text(spec.stdout_file);
  o.err = read_text(spec.stderr_file);
  o.csv = read_text(dir / "out" / "programs.csv");
  return o;
}

}  // namespace allocbench::bench::programs::testing
