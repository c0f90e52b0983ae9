#include "bench/programs/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace allocbench::bench::programs {
namespace {

// The exit status the child reports when exec itself failed (as the shell does for "not found").
constexpr int kExecFailed = 127;

int open_output(const std::filesystem::path& p) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot write " + p.string() + ": " + std::strerror(errno));
  return fd;
}

double seconds(const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; }

// Only async-signal-safe calls between fork and exec: the runner has no other threads, but a
// preloaded or sanitizer runtime may.
[[noreturn]] void exec_child(const child_spec& spec, char* const* argv, int out_fd, int err_fd) {
  setpgid(0, 0);  // its own process group, so that a timeout kills its children too
  if (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(err_fd, STDERR_FILENO) < 0) _exit(kExecFailed);
  const int in_fd = ::open("/dev/null", O_RDONLY);
  if (in_fd >= 0) dup2(in_fd, STDIN_FILENO);
  if (!spec.cwd.empty() && chdir(spec.cwd.c_str()) != 0) {
    const char msg[] = "run_child: cannot chdir to the run directory\n";
    (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
    _exit(kExecFailed);
  }
  execvp(argv[0], argv);
  const char msg[] = "run_child: exec failed: ";
  (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)!write(STDERR_FILENO, argv[0], std::strlen(argv[0]));
  (void)!write(STDERR_FILENO, "\n", 1);
  _exit(kExecFailed);
}

}  // namespace

std::string child_result::describe_failure() const {
  if (!started) return "could not be started (exec failed)";
  if (timed_out) return "timed out (killed)";
  if (signal != 0) return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  if (exit_code != 0) return "exit code " + std::to_string(exit_code);
  return "succeeded";
}

child_result run_child(const child_spec& spec) {
  if (spec.argv.empty()) throw std::invalid_argument("run_child: empty argv");
  // Everything the child needs is built before fork: allocating after fork is not safe.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string key = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& [k, v] : spec.env) overridden = overridden || k == key;
    if (!overridden) env_strings.push_back(entry);
  }
  for (const auto& [k, v] : spec.env) {
    if (!v.empty()) env_strings.push_back(k + "=" + v);
  }
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = spec.argv;
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  const int out_fd = open_output(spec.stdout_file);
  const int err_fd = open_output(spec.stderr_file);
  child_result r;
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) {
    ::close(out_fd);
    ::close(err_fd);
    throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) {
    environ = envp.data();
    exec_child(spec, argv.data(), out_fd, err_fd);
  }
  ::close(out_fd);
  ::close(err_fd);
  setpgid(pid, pid);  // also here, so that the group exists whichever of the two runs first

  // A pidfd becomes readable when the child exits: poll it with the timeout, then reap with wait4.
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    const int timeout_ms = static_cast<int>(spec.timeout_seconds * 1000);
    int ready;
    do {
      ready = poll(&p, 1, timeout_ms);
    } while (ready < 0 && errno == EINTR);
    if (ready == 0) {
      r.timed_out = true;
      kill(-pid, SIGKILL);
    }
    ::close(pidfd);
  }
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) throw std::runtime_error(std::string("wait4 failed: ") + std::strerror(errno));
  }
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.user_seconds = seconds(usage.ru_utime);
  r.system_seconds = seconds(usage.ru_stime);
  r.peak_rss_kib = usage.ru_maxrss;
  r.started = true;
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
    if (r.exit_code == kExecFailed) r.started = false;
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  }
  return r;
}

}  // namespace allocbench::bench::programs
