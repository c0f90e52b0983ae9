// allocbench::config_error: what a bad JSON config (allocator layout or workload) throws.
#pragma once

#include <stdexcept>
#include <string>

namespace allocbench {

// A std::invalid_argument whose message names the file, the field (a JSON path such as
// "resource.routes[2].max_size") and the reason, e.g.
//   configs/allocators/x.json: resource.routes[2].max_size: must be a positive integer, got -4
class config_error : public std::invalid_argument {
 public:
  config_error(std::string file, std::string field, std::string reason)
      : std::invalid_argument(file + ": " + (field.empty() ? std::string("(top level)") : field) +
                              ": " + reason),
        file_(std::move(file)),
        field_(std::move(field)),
        reason_(std::move(reason)) {}

  const std::string& file() const noexcept { return file_; }
  const std::string& field() const noexcept { return field_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string file_;
  std::string field_;
  std::string reason_;
};

}  // namespace allocbench
