// The options check every configurable resource keeps: bad options throw std::invalid_argument whose
// message names the option, a null upstream is named too, and nothing is asked of the upstream.
#pragma once

#include <gtest/gtest.h>

#include <memory_resource>
#include <span>
#include <stdexcept>
#include <string>

#include "pmr/testing/test_upstream.h"

namespace allocbench::testing {

// Constructs a Resource from `o` and `upstream`; returns the invalid_argument message, or "" when
// nothing was thrown.
template <class Resource, class Options>
std::string construction_error(const Options& o, std::pmr::memory_resource* upstream) {
  try {
    Resource r(o, upstream);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

// Options that must be refused, and the option the message must name.
template <class Options>
struct bad_option {
  Options options;
  const char* option;
};

template <class Resource, class Options>
void expect_bad_options_named(std::span<const bad_option<Options>> cases, test_upstream& up) {
  for (const bad_option<Options>& c : cases) {
    const std::string message = construction_error<Resource>(c.options, &up);
    EXPECT_NE(message.find(c.option), std::string::npos)
        << "expected an error naming " << c.option << ", got \"" << message << "\"";
  }
  EXPECT_NE(construction_error<Resource>(Options{}, nullptr).find("upstream"), std::string::npos);
  EXPECT_EQ(up.allocate_calls(), 0u);
}

}  // namespace allocbench::testing
