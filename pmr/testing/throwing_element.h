// An element type for the containers' exception-safety tests: every construction (default, value or
// copy) and every copy assignment throws on the n-th one after arm(n). It has no move constructor, so
// a container must copy it; `live` counts the objects alive, so that a leak or a double destruction
// shows. ThrowingElements resets the counters before each test and checks `live` after it.
#pragma once

#include <gtest/gtest.h>

#include <stdexcept>

namespace allocbench::testing {

struct throwing {
  static inline int countdown = 0;  // 0: never throws
  static inline int live = 0;

  static void arm(int n) { countdown = n; }
  static void maybe_throw() {
    if (countdown != 0 && --countdown == 0) throw std::runtime_error("throwing: armed construction");
  }

  int value = 0;

  throwing() {
    maybe_throw();
    ++live;
  }
  explicit throwing(int v) : value(v) {
    maybe_throw();
    ++live;
  }
  throwing(const throwing& other) : value(other.value) {
    maybe_throw();
    ++live;
  }
  throwing& operator=(const throwing& other) {
    maybe_throw();
    value = other.value;
    return *this;
  }
  ~throwing() { --live; }
  friend bool operator==(const throwing& a, const throwing& b) { return a.value == b.value; }
};

class ThrowingElements : public ::testing::Test {
 protected:
  void SetUp() override {
    throwing::countdown = 0;
    throwing::live = 0;
  }
  void TearDown() override {
    throwing::countdown = 0;
    EXPECT_EQ(throwing::live, 0) << "an element leaked or was destroyed twice";
  }
};

}  // namespace allocbench::testing
