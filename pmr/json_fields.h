// Typed, path-tracking access to a JSON config, so that every parser reports errors the same way:
// file, field path and reason (config_error). Used by the allocator-layout loader and the benchmark's
// workload parser.
//
//   json_fields root(doc, "configs/allocators/x.json");
//   json_fields r = root.object("resource");        // required object
//   std::size_t n = r.size("block_size");            // required positive-or-zero integer
//   std::size_t c = r.size_or("chunk_bytes", 65536);  // optional, with default
//   r.reject_unknown({"type", "block_size", "chunk_bytes"});  // typos are errors, not ignored
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "pmr/config_error.h"

namespace allocbench {

// Reads a file and parses it; a missing file or a syntax error is a config_error naming the file.
nlohmann::json read_json_file(const std::filesystem::path& path);

// How deep arrays and objects may nest in a config (the document itself is level 1). Deeper documents
// are hostile or broken: copying, printing or walking them recursively would overflow the stack.
inline constexpr std::size_t kMaxJsonDepth = 128;

// Throws config_error (file, the JSON path of the first value below `max_depth` levels, reason) when
// `doc` nests deeper. Walks with a heap stack and stops at the first such value, so a document of any
// depth is rejected without deep recursion. Every parser entry point calls it before reading fields.
void check_json_depth(const nlohmann::json& doc, const std::string& file,
                      std::size_t max_depth = kMaxJsonDepth);

class json_fields {
 public:
  json_fields(const nlohmann::json& node, std::string file, std::string path = "")
      : node_(&node), file_(std::move(file)), path_(std::move(path)) {
    if (!node.is_object()) fail("must be a JSON object, got " + describe(node));
  }

  const nlohmann::json& node() const noexcept { return *node_; }
  const std::string& file() const noexcept { return file_; }
  const std::string& path() const noexcept { return path_; }
  bool has(std::string_view key) const { return node_->contains(key); }

  // The JSON path of a child field, for error messages.
  std::string field_path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  [[noreturn]] void fail(const std::string& reason) const { throw config_error(file_, path_, reason); }
  [[noreturn]] void fail(std::string_view key, const std::string& reason) const {
    throw config_error(file_, field_path(key), reason);
  }

  // Required fields.
  json_fields object(std::string_view key) const;
  const nlohmann::json& array(std::string_view key) const;
  std::string string(std::string_view key) const;
  std::size_t size(std::string_view key) const;  // a non-negative integer
  double number(std::string_view key) const;
  bool boolean(std::string_view key) const;

  // Optional fields with defaults.
  std::string string_or(std::string_view key, std::string fallback) const;
  std::size_t size_or(std::string_view key, std::size_t fallback) const;
  double number_or(std::string_view key, double fallback) const;
  bool boolean_or(std::string_view key, bool fallback) const;

  // A list of non-negative integers, e.g. size classes; `min_length` elements at least.
  std::vector<std::size_t> size_list(std::string_view key, std::size_t min_length = 1) const;

  // The i-th element of array field `key` as an object.
  json_fields element(std::string_view key, std::size_t i) const;

  // Any key not in `known` is an error naming it: a misspelt option must not be silently ignored.
  void reject_unknown(std::initializer_list<std::string_view> known) const;

  // The value's type and at most kDescribeChars characters of its JSON text, for error messages.
  // Serialises only that much (never the whole value), with no recursion, so a huge or deeply nested
  // value cannot make the message itself fail.
  static constexpr std::size_t kDescribeChars = 60;
  static std::string describe(const nlohmann::json& value);

 private:
  const nlohmann::json& required(std::string_view key) const;
  // `v` as a size_t: any non-negative JSON integer (unsigned, or signed as JSON built in C++ makes it).
  std::size_t size_value(const nlohmann::json& v, const std::string& where) const;

  const nlohmann::json* node_;
  std::string file_;
  std::string path_;
};

}  // namespace allocbench
