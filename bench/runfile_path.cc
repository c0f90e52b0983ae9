#include "bench/runfile_path.h"

#include <memory>
#include <stdexcept>

#include "tools/cpp/runfiles/runfiles.h"

namespace allocbench::bench {
namespace {

using bazel::tools::cpp::runfiles::Runfiles;

const Runfiles& runfiles(const char* argv0) {
  static const std::unique_ptr<Runfiles> r = [argv0] {
    std::string error;
    std::unique_ptr<Runfiles> rf(Runfiles::Create(argv0, &error));
    if (!rf) throw std::runtime_error("cannot find runfiles (run through `bazel run`): " + error);
    return rf;
  }();
  return *r;
}

}  // namespace

std::string runfile(const char* argv0, const std::string& workspace_relative) {
  return runfiles(argv0).Rlocation("allocbench/" + workspace_relative);
}

}  // namespace allocbench::bench
