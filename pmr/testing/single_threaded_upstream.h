// An upstream that is deliberately not thread-safe: plain counters in front of another resource. A
// resource that promises to call its upstream from one thread at a time (under its own lock) keeps
// that promise only if calls are ordered: calls that are not are a data race on these counters
// (reported by tsan, whatever the timing), and calls that happen to overlap also show as
// max_in_flight() > 1 in any build.
#pragma once

#include <cstddef>
#include <memory_resource>

namespace allocbench::testing {

class single_threaded_upstream : public std::pmr::memory_resource {
 public:
  explicit single_threaded_upstream(std::pmr::memory_resource& next) : next_(next) {}
  int max_in_flight() const { return max_in_flight_; }
  std::size_t calls() const { return calls_; }

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    enter();
    void* p = next_.allocate(bytes, alignment);
    --in_flight_;
    return p;
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    enter();
    next_.deallocate(p, bytes, alignment);
    --in_flight_;
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }
  void enter() {
    ++calls_;
    if (++in_flight_ > max_in_flight_) max_in_flight_ = in_flight_;
  }

  std::pmr::memory_resource& next_;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  std::size_t calls_ = 0;
};

}  // namespace allocbench::testing
