// A shared library that allocates in its constructor, before the program's main and its own static
// constructors, and frees at exit: from an atexit handler and from a static object's destructor.
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

char* g_block = nullptr;
std::string* g_text = nullptr;

struct frees_at_exit {
  ~frees_at_exit() {
    delete g_text;  // a static destructor, after main returned
    g_text = nullptr;
  }
} g_frees_at_exit;

[[gnu::constructor]] void allocate_early() {
  g_block = static_cast<char*>(std::malloc(20));
  std::strcpy(g_block, "from a constructor");
  g_text = new std::string(200, 'c');
  std::atexit([] {
    std::free(g_block);  // an exit handler
    g_block = nullptr;
  });
}

}  // namespace

extern "C" const char* ctor_block() { return g_block; }
extern "C" std::size_t ctor_text_size() { return g_text != nullptr ? g_text->size() : 0; }
