#include "bench/backend_client.h"

#include <cstdio>
#include <stdexcept>

namespace allocbench::bench {
namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a command and returns its stdout; the exit status goes to *status.
std::string capture(const std::string& command, int* status) {
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("cannot start: " + command);
  std::string out;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *status = pclose(p);
  return out;
}

std::string command_line(const std::string& exe, const std::vector<std::string>& args) {
  std::string cmd = shell_quote(exe);
  for (const std::string& a : args) cmd += " " + shell_quote(a);
  return cmd;
}

}  // namespace

std::vector<backend_binary> find_backends(const char* argv0, const std::vector<std::string>& layouts) {
  std::vector<backend_binary> out;
  for (const char* name : {"ours_glibc_std", "jemalloc", "tcmalloc", "mimalloc"}) {
    backend_binary b{name, runfile(argv0, std::string("bench/backend_") + name), {}};
    std::vector<std::string> args = {"--list"};
    for (const std::string& l : layouts) args.push_back("--layout=" + l);
    int status = 0;
    const std::string listing = capture(command_line(b.path, args), &status);
    if (status != 0) throw std::runtime_error("backend " + b.name + " (" + b.path + ") failed to list its allocators");
    std::size_t start = 0;
    while (start < listing.size()) {
      const std::size_t nl = listing.find('\n', start);
      const std::string line = listing.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      if (!line.empty()) b.allocators.push_back(line);
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    out.push_back(std::move(b));
  }
  return out;
}

nlohmann::json run_backend_process(const backend_binary& b, const std::vector<std::string>& args) {
  int status = 0;
  const std::string out = capture(command_line(b.path, args), &status);
  if (status != 0) throw std::runtime_error("backend " + b.name + " failed (status " + std::to_string(status) + ")");
  try {
    return nlohmann::json::parse(out);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error("backend " + b.name + " printed no valid JSON: " + e.what());
  }
}

}  // namespace allocbench::bench
