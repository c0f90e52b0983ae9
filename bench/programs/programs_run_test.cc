// //bench:programs end to end under glibc alone (in every build, sanitizers included): tiny programs
// run, their output is checked, the table and CSV are written; bad flags fail clearly.
#include <gtest/gtest.h>

#include "bench/programs/run_programs_for_test.h"

namespace {

using allocbench::bench::programs::testing::run_programs;

TEST(ProgramsRun, TinyProgramsUnderGlibc) {
  const auto o = run_programs("glibc", {"--program-dir=testdata/programs/e2e", "--allocators=glibc", "--reps=2"});
  ASSERT_TRUE(o.result.succeeded()) << o.result.describe_failure() << "\n" << o.err;
  EXPECT_NE(o.out.find("| tiny_larson |"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("| tiny_sort |"), std::string::npos) << o.out;
  EXPECT_NE(o.csv.find("\ntiny_larson,glibc,2,"), std::string::npos) << o.csv;
  EXPECT_NE(o.csv.find("\ntiny_sort,glibc,2,"), std::string::npos) << o.csv;
  EXPECT_NE(o.csv.find("# commit: "), std::string::npos) << o.csv;
  EXPECT_EQ(o.csv.find("FAILED"), std::string::npos) << o.csv;
}

TEST(ProgramsRun, MissingLibraryIsSkippedWithItsReason) {
  const auto o = run_programs("skip", {"--program-dir=testdata/programs/e2e", "--programs=tiny_sort",
                                       "--allocators=glibc,ours", "--preload=ours=/nonexistent/libx.so", "--reps=1"});
  ASSERT_TRUE(o.result.succeeded()) << o.result.describe_failure() << "\n" << o.err;
  EXPECT_NE(o.err.find("skipping allocator ours: /nonexistent/libx.so not found"), std::string::npos) << o.err;
  EXPECT_NE(o.csv.find("\ntiny_sort,ours,0,"), std::string::npos) << o.csv;
  EXPECT_NE(o.csv.find("skipped: /nonexistent/libx.so not found"), std::string::npos) << o.csv;
}

TEST(ProgramsRun, BadFlagsAndNamesFailClearly) {
  const auto unknown = run_programs("unknown", {"--program-dir=testdata/programs/e2e", "--allocators=glibc,jemaloc"});
  EXPECT_EQ(unknown.result.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown allocator 'jemaloc' (known: glibc, jemalloc,"), std::string::npos) << unknown.err;
  const auto program = run_programs("program", {"--program-dir=testdata/programs/e2e", "--programs=tiny"});
  EXPECT_EQ(program.result.exit_code, 2);
  EXPECT_NE(program.err.find("unknown program 'tiny' (known: tiny_larson, tiny_sort)"), std::string::npos)
      << program.err;
  const auto preload = run_programs("preload", {"--program-dir=testdata/programs/e2e", "--preload=nopath"});
  EXPECT_EQ(preload.result.exit_code, 2);
  EXPECT_NE(preload.err.find("--preload must be NAME=PATH"), std::string::npos) << preload.err;
  const auto config = run_programs("config", {"--program-dir=testdata/programs"});
  EXPECT_EQ(config.result.exit_code, 2);
  EXPECT_NE(config.err.find("testdata/programs/bad_"), std::string::npos) << config.err;
}

}  // namespace
