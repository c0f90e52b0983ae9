#include "bench/allocator_choice.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace allocbench::bench {
namespace {

const std::vector<std::string> kKnown = {"scalable", "glibc", "layout:mine", "tcmalloc", "layout:other"};

TEST(AllocatorChoice, NoneRequestedMeansEveryKnownOne) {
  EXPECT_EQ(choose_allocators({}, kKnown), kKnown);
}

TEST(AllocatorChoice, LayoutsGivenWithLayoutRunBesideTheRequestedAllocators) {
  const std::vector<std::string> want = {"scalable", "tcmalloc", "layout:mine", "layout:other"};
  EXPECT_EQ(choose_allocators({"scalable", "tcmalloc"}, kKnown), want);
  // Named ones keep their place and are not repeated.
  const std::vector<std::string> named = {"layout:other", "glibc", "layout:mine"};
  EXPECT_EQ(choose_allocators({"layout:other", "glibc"}, kKnown), named);
}

TEST(AllocatorChoice, AnUnknownNameIsAnErrorThatListsTheKnownOnes) {
  try {
    choose_allocators({"scalable", "mine"}, kKnown);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'mine'"), std::string::npos) << what;
    EXPECT_NE(what.find("layout:mine"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace allocbench::bench
