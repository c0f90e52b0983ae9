// Test guards around the process-wide invalid-free handler (allocator/invalid_free.h). Each installs
// its handler for as long as it lives and puts the previous one back after.
//
// - invalid_free_recorder: collects every report instead of aborting. The handler is a plain
//   function pointer, so the reports live in a static vector, cleared when a recorder is made.
// - throwing_invalid_free_handler: throws std::runtime_error("invalid free") from the handler, which
//   invalid_free.h allows; a resource must not have acted on the bad free before calling it. It keeps
//   the last report (last()) so that a test can see what was caught.
#pragma once

#include <stdexcept>
#include <vector>

#include "allocator/invalid_free.h"

namespace allocbench::testing {

class invalid_free_recorder {
 public:
  invalid_free_recorder() : previous_(set_invalid_free_handler(&record)) { reports().clear(); }
  ~invalid_free_recorder() { set_invalid_free_handler(previous_); }
  invalid_free_recorder(const invalid_free_recorder&) = delete;
  invalid_free_recorder& operator=(const invalid_free_recorder&) = delete;

  static std::vector<invalid_free_report>& reports() {
    static std::vector<invalid_free_report> seen;
    return seen;
  }

 private:
  static void record(const invalid_free_report& r) { reports().push_back(r); }
  invalid_free_handler previous_;
};

class throwing_invalid_free_handler {
 public:
  throwing_invalid_free_handler()
      : previous_(set_invalid_free_handler([](const invalid_free_report& r) {
          last() = r;
          ++count();
          throw std::runtime_error("invalid free");
        })) {
    count() = 0;
  }
  ~throwing_invalid_free_handler() { set_invalid_free_handler(previous_); }
  throwing_invalid_free_handler(const throwing_invalid_free_handler&) = delete;
  throwing_invalid_free_handler& operator=(const throwing_invalid_free_handler&) = delete;

  // The last report thrown for, and how many since this handler was installed.
  static invalid_free_report& last() {
    static invalid_free_report seen{};
    return seen;
  }
  static int& count() {
    static int n = 0;
    return n;
  }

 private:
  invalid_free_handler previous_;
};

}  // namespace allocbench::testing
