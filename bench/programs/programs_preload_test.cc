// //bench:programs end to end with a preloaded allocator (plain builds only: see BUILD): tiny
// programs pass under jemalloc, an extra --preload runs, and an output or exit status that differs
// from glibc's fails the run with a message naming program and allocator.
#include <gtest/gtest.h>

#include "bench/programs/run_programs_for_test.h"

namespace {

using allocbench::bench::programs::testing::run_programs;

TEST(ProgramsPreload, TinyProgramsUnderJemallocAndAnExtraPreload) {
  const auto o = run_programs("jemalloc", {"--program-dir=testdata/programs/e2e", "--allocators=glibc,jemalloc,extra",
                                           "--preload", "extra=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
                                           "--reps=1"});
  ASSERT_TRUE(o.result.succeeded()) << o.result.describe_failure() << "\n" << o.err;
  for (const char* row : {"\ntiny_larson,jemalloc,1,", "\ntiny_sort,jemalloc,1,", "\ntiny_larson,extra,1,",
                          "\ntiny_sort,extra,1,"}) {
    EXPECT_NE(o.csv.find(row), std::string::npos) << row << "\n" << o.csv;
  }
  EXPECT_EQ(o.csv.find("FAILED"), std::string::npos) << o.csv;
}

TEST(ProgramsPreload, OutputThatDiffersFromGlibcFailsLoudly) {
  const auto o = run_programs("differs", {"--program-dir=testdata/programs/e2e_differs",
                                          "--allocators=glibc,jemalloc", "--reps=2"});
  EXPECT_EQ(o.result.exit_code, 1) << o.err;
  EXPECT_NE(o.err.find("FAILED: program preload_echo under allocator jemalloc: output differs from glibc's: "
                       "stdout differs"),
            std::string::npos)
      << o.err;
  EXPECT_NE(o.out.find("**FAILED**"), std::string::npos) << o.out;
  EXPECT_NE(o.csv.find("\npreload_echo,glibc,2,"), std::string::npos) << o.csv;
  EXPECT_NE(o.csv.find("\npreload_echo,jemalloc,0,"), std::string::npos) << o.csv;
}

TEST(ProgramsPreload, AFailingRunFailsLoudly) {
  const auto o = run_programs("fails", {"--program-dir=testdata/programs/e2e_fails", "--allocators=glibc,jemalloc",
                                        "--reps=1"});
  EXPECT_EQ(o.result.exit_code, 1) << o.err;
  EXPECT_NE(o.err.find("FAILED: program exits_3 under allocator jemalloc: exit code 3"), std::string::npos) << o.err;
}

}  // namespace
