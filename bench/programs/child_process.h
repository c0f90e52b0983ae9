// Runs one program as a child process and measures it: wall time (fork to reap), user and system
// time and peak RSS from wait4's rusage. The rusage counts the child and every descendant it waited
// for (g++ runs cc1plus), and ru_maxrss is then the largest of their peaks, not their sum.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace allocbench::bench::programs {

struct child_spec {
  std::vector<std::string> argv;  // argv[0] is the executable (a path, or a name found on PATH)
  // Added to (or replacing in) this process's environment; a pair with an empty value removes it.
  std::vector<std::pair<std::string, std::string>> env;
  std::filesystem::path cwd;
  std::filesystem::path stdout_file;  // truncated; the child's stdout
  std::filesystem::path stderr_file;  // truncated; the child's stderr
  double timeout_seconds = 120;       // then the child's process group is killed
};

struct child_result {
  bool started = false;    // false: exec failed (the reason is in stderr_file)
  bool timed_out = false;
  int exit_code = -1;      // when it exited
  int signal = 0;          // when a signal ended it
  double wall_seconds = 0;
  double user_seconds = 0;
  double system_seconds = 0;
  long peak_rss_kib = 0;

  bool succeeded() const { return started && !timed_out && signal == 0 && exit_code == 0; }
  std::string describe_failure() const;  // "exit code 3", "killed by signal 11 (Segmentation fault)", ...
};

// Blocks until the child ends or its timeout passes; throws std::runtime_error when it cannot fork or
// open the output files.
child_result run_child(const child_spec& spec);

}  // namespace allocbench::bench::programs
