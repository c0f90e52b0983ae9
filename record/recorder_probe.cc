// The program recorder_test runs under the preloaded recorder: known calls, in known threads.
//   thread 0 (main): malloc 1001, calloc 10 x 101, realloc -> 3003, posix_memalign(256, 555),
//                    aligned_alloc(64, 640), memalign(128, 77), valloc(99), new 40, new[] 50,
//                    aligned new (std::align_val_t 512) 60, nothrow new 70; frees each of its own
//                    blocks; then frees the 100 blocks of 2000 + i bytes that thread 1 allocated
//   thread 1:        malloc(2000 + i) for i < 100, handed to main
//   then fork(): the child mallocs 4242 and frees it, and exits (its own trace file)
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <new>
#include <thread>
#include <vector>

int main() {
  void* volatile sink;
  void* a = std::malloc(1001);
  void* c = std::calloc(10, 101);
  a = std::realloc(a, 3003);
  void* pm = nullptr;
  if (posix_memalign(&pm, 256, 555) != 0) return 1;
  void* al = std::aligned_alloc(64, 640);
  void* me = memalign(128, 77);
  void* va = valloc(99);
  void* n1 = ::operator new[](50);  // (a new-expression paired with its delete may be elided)
  auto* n0 = static_cast<char*>(::operator new(40));
  void* n2 = ::operator new(60, std::align_val_t(512));
  void* n3 = ::operator new(70, std::nothrow);
  sink = n3;
  std::free(a);
  std::free(c);
  std::free(pm);
  std::free(al);
  std::free(me);
  std::free(va);
  ::operator delete[](n1);
  ::operator delete(n0, 40);
  ::operator delete(n2, std::align_val_t(512));
  ::operator delete(n3);

  std::vector<void*> handed(100);
  std::thread t([&] {
    for (int i = 0; i < 100; ++i) handed[i] = std::malloc(2000 + i);
  });
  t.join();
  for (void* p : handed) std::free(p);

  const pid_t child = fork();
  if (child == 0) {
    sink = std::malloc(4242);
    std::free(sink);
    std::exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  std::printf("%d\n", child);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
