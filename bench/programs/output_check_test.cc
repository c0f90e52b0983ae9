// The output check: equal outputs pass; a differing stdout, a differing or missing file fail, and
// the message says what differs.
#include "bench/programs/output_check.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace {

namespace bp = allocbench::bench::programs;
namespace fs = std::filesystem;

class OutputCheck : public ::testing::Test {
 protected:
  fs::path dir_ = fs::path(std::getenv("TEST_TMPDIR")) / ::testing::UnitTest::GetInstance()->current_test_info()->name();

  void SetUp() override { fs::create_directories(dir_); }

  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name, std::ios::binary) << text; }

  bp::output_digest digest(const std::string& stdout_text, const std::string& file_text) {
    write("stdout", stdout_text);
    if (file_text.empty()) fs::remove(dir_ / "out.txt");
    else write("out.txt", file_text);
    bp::output_spec spec;
    spec.files = {"out.txt"};
    return bp::digest_output(spec, dir_ / "stdout", dir_);
  }
};

TEST_F(OutputCheck, FnvOfKnownBytes) {
  write("abc", "a");
  const auto h = bp::hash_file(dir_ / "abc");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->hash, 0xaf63dc4c8601ec8cull);  // FNV-1a 64 of "a"
  EXPECT_EQ(h->bytes, 1u);
  EXPECT_FALSE(bp::hash_file(dir_ / "missing").has_value());
}

TEST_F(OutputCheck, EqualOutputsPass) {
  const bp::output_digest a = digest("hello\n", "result");
  const bp::output_digest b = digest("hello\n", "result");
  EXPECT_EQ(bp::compare_outputs(a, b), std::nullopt);
}

TEST_F(OutputCheck, DifferingStdoutFails) {
  const bp::output_digest a = digest("hello\n", "result");
  const bp::output_digest b = digest("hellp\n", "result");
  const auto diff = bp::compare_outputs(a, b);
  ASSERT_TRUE(diff.has_value());
  EXPECT_NE(diff->find("stdout differs: 6 bytes"), std::string::npos) << *diff;
  EXPECT_EQ(diff->find("file out.txt"), std::string::npos) << *diff;
}

TEST_F(OutputCheck, DifferingOrMissingFileFails) {
  const bp::output_digest a = digest("same", "result");
  const auto changed = bp::compare_outputs(a, digest("same", "resulT"));
  ASSERT_TRUE(changed.has_value());
  EXPECT_NE(changed->find("file out.txt differs"), std::string::npos) << *changed;
  const auto missing = bp::compare_outputs(a, digest("same", ""));
  ASSERT_TRUE(missing.has_value());
  EXPECT_NE(missing->find("file out.txt differs: missing"), std::string::npos) << *missing;
}

}  // namespace
