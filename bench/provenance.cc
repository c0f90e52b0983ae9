#include "bench/provenance.h"

#include <sys/utsname.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <thread>

#include "pmr/json_fields.h"
#include "pmr/presets.h"
#include "pmr/version.h"

namespace allocbench::bench {
namespace {

// The first line a shell command prints, "" when it fails.
std::string first_line(const std::string& command) {
  FILE* p = popen((command + " 2>/dev/null").c_str(), "r");
  if (p == nullptr) return "";
  char buf[512] = {};
  std::string out = std::fgets(buf, sizeof buf, p) != nullptr ? buf : "";
  const bool ok = pclose(p) == 0;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return ok ? out : "";
}

std::string quote(const std::string& s) { return "'" + s + "'"; }

}  // namespace

std::string installed_version(const std::string& package) {
  return first_line("dpkg-query -W -f='${Version}' " + quote(package));
}

namespace {

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const std::size_t colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  }
  return "unknown";
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

nlohmann::json collect_machine_provenance(const std::string& workspace) {
  nlohmann::json p;
  std::string commit = "unknown";
  if (!workspace.empty()) {
    const std::string git = "git -C " + quote(workspace);
    commit = first_line(git + " rev-parse HEAD");
    if (commit.empty()) commit = "unknown";
    else if (!first_line(git + " status --porcelain --untracked-files=no").empty()) commit += "-dirty";
  }
  p["commit"] = commit;
  p["allocbench_version"] = ALLOCBENCH_VERSION;
  p["compiler"] = std::string("gcc ") + __VERSION__;
  // `bazel-4 --version` prints "no_version" for Debian's build; its package version is the real one.
  std::string bazel = first_line("dpkg-query -W -f='${Version}' bazel-bootstrap");
  p["bazel_version"] = bazel.empty() ? "4.2.3 (assumed)" : "bazel-bootstrap " + bazel;
  nlohmann::json libs;
  for (const char* pkg : {"libjemalloc2", "libgoogle-perftools4", "libtcmalloc-minimal4", "libmimalloc2.0",
                          "libtbbmalloc2", "libc6", "libstdc++6"}) {
    const std::string v = installed_version(pkg);
    if (!v.empty()) libs[pkg] = v;
  }
  p["libraries"] = libs;
  p["cpu_model"] = cpu_model();
  p["cores"] = std::thread::hardware_concurrency();
  utsname u{};
  p["kernel"] = uname(&u) == 0 ? std::string(u.sysname) + " " + u.release + " " + u.version + " " + u.machine
                               : std::string("unknown");
  p["date_utc"] = utc_now();
  return p;
}

nlohmann::json collect_provenance(const std::string& workspace, const workload_config& workload,
                                  const std::vector<nlohmann::json>& backend_outputs,
                                  const std::vector<std::string>& layouts) {
  nlohmann::json p = collect_machine_provenance(workspace);
  p["workload"] = workload.name;
  for (const nlohmann::json& b : backend_outputs) {
    if (!b.value("library_version", "").empty()) {
      p["libraries"]["headers:" + b.value("backend", "")] = b["library_version"];
    }
  }
  p["config_file"] = workload.source;
  p["config"] = workload.raw;
  nlohmann::json presets;
  for (const std::string& name : preset_names()) {
    try {
      presets[name] = nlohmann::json::parse(preset_text(name));
    } catch (const std::exception&) {
      presets[name] = std::string(preset_text(name));
    }
  }
  p["presets"] = presets;
  nlohmann::json layout_docs;
  for (const std::string& l : layouts) layout_docs[l] = read_json_file(l);
  if (!layouts.empty()) p["layouts"] = layout_docs;
  return p;
}

}  // namespace allocbench::bench
