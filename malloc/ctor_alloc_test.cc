// libctor_alloc.so allocated before main, with this program's malloc (//malloc:scalable_malloc_lib)
// already the one it got; it frees at exit. The test passes only if the process exits cleanly.
#include <malloc.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>

extern "C" const char* ctor_block();
extern "C" std::size_t ctor_text_size();

namespace {

TEST(CtorAllocTest, BlocksAllocatedInALibraryConstructorAreTheEngines) {
  ASSERT_NE(ctor_block(), nullptr);
  EXPECT_STREQ(ctor_block(), "from a constructor");
  EXPECT_EQ(malloc_usable_size(const_cast<char*>(ctor_block())), 32u);  // the engine's class for 20
  EXPECT_EQ(ctor_text_size(), 200u);
}

}  // namespace
