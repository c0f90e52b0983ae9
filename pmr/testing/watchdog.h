// Runs a test body that could deadlock on a thread of its own and fails the test, rather than hang
// the whole run, when it has not finished within a generous limit.
//
// The limit is no timing assertion: a body that finishes finishes in a small fraction of it even
// under ThreadSanitizer on a loaded machine; only a body stuck for good ever reaches it. Then no
// clean exit is possible (the stuck threads hold locks the exit path may need), so the process ends
// at once with a message naming the body.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace allocbench::testing {

template <class F>
void run_with_watchdog(const char* what, F&& body, std::chrono::seconds limit = std::chrono::seconds(60)) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread worker([&] {
    body();
    std::lock_guard lock(mu);
    done = true;
    cv.notify_all();
  });
  {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, limit, [&] { return done; })) {
      std::fprintf(stderr, "watchdog: %s did not finish within %lld s: deadlocked\n", what,
                   static_cast<long long>(limit.count()));
      std::fflush(stderr);
      std::_Exit(3);
    }
  }
  worker.join();
}

}  // namespace allocbench::testing
