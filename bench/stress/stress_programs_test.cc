// The stress programs with small arguments under the build's own malloc: each must exit 0 with its
// checksum line, give the same line when run again, and reject a misspelt argument. (Their blocks are
// checked at every free, so a corrupting allocator makes them exit 3.)
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bench/programs/child_process.h"
#include "bench/runfile_path.h"

namespace {

namespace bp = allocbench::bench::programs;

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct run_output {
  bp::child_result result;
  std::string out, err;
};

run_output run(const std::vector<std::string>& argv) {
  const std::filesystem::path dir = std::getenv("TEST_TMPDIR");
  bp::child_spec spec;
  spec.argv = argv;
  spec.argv[0] = allocbench::bench::runfile("", "bench/stress/" + argv[0]);
  spec.stdout_file = dir / (argv[0] + ".out");
  spec.stderr_file = dir / (argv[0] + ".err");
  spec.timeout_seconds = 300;
  run_output o{bp::run_child(spec), "", ""};
  o.out = read_all(spec.stdout_file);
  o.err = read_all(spec.stderr_file);
  return o;
}

class stress_program : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(stress_program, prints_the_same_checksum_twice) {
  const run_output first = run(GetParam());
  ASSERT_TRUE(first.result.succeeded()) << first.result.describe_failure() << "\n" << first.err;
  EXPECT_TRUE(std::regex_match(first.out, std::regex("[a-z_ ]+ checksum [0-9a-f]{16}\n"))) << first.out;
  const run_output second = run(GetParam());
  ASSERT_TRUE(second.result.succeeded()) << second.result.describe_failure() << "\n" << second.err;
  EXPECT_EQ(first.out, second.out);
}

TEST_P(stress_program, rejects_an_unknown_argument) {
  std::vector<std::string> argv = GetParam();
  argv.push_back("--thraeds=2");
  const run_output o = run(argv);
  EXPECT_EQ(o.result.exit_code, 2);
  EXPECT_NE(o.err.find("unknown argument '--thraeds=2'"), std::string::npos) << o.err;
}

INSTANTIATE_TEST_SUITE_P(
    small, stress_program,
    ::testing::Values(std::vector<std::string>{"larson", "--threads=3", "--rounds=4", "--slots=100", "--ops=500"},
                      std::vector<std::string>{"thread_churn", "--waves=5", "--threads=3", "--blocks=200"},
                      std::vector<std::string>{"producer_consumer", "--pairs=2", "--messages=2000", "--queue=8"},
                      std::vector<std::string>{"false_sharing", "--mode=active", "--threads=3", "--rounds=50",
                                               "--writes=100"},
                      std::vector<std::string>{"false_sharing", "--mode=passive", "--threads=3", "--rounds=50",
                                               "--writes=100"}),
    [](const ::testing::TestParamInfo<std::vector<std::string>>& info) {
      std::string name = info.param[0] + (info.param[1].rfind("--mode=", 0) == 0 ? "_" + info.param[1].substr(7) : "");
      return name;
    });

}  // namespace
