#include "pmr/json_fields.h"

#include <cmath>
#include <fstream>
#include <ios>
#include <limits>
#include <sstream>
#include <vector>

namespace allocbench {
namespace {

using json = nlohmann::json;

// A JSON string's text, from at most `limit` of its bytes: a long string is never escaped whole.
// Invalid UTF-8 is replaced rather than thrown on, since this only ever feeds an error message.
std::string quoted_prefix(const std::string& s, std::size_t limit) {
  const json prefix = s.size() > limit ? json(s.substr(0, limit)) : json(s);
  return prefix.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The JSON text of `value`, cut off once it is longer than `limit` characters. Arrays and objects are
// walked with a heap stack of open containers, so neither depth nor size matters: the walk stops as
// soon as enough text is written.
std::string bounded_dump(const json& value, std::size_t limit) {
  struct open_container {
    const json* node;
    json::const_iterator next;
  };
  std::vector<open_container> open;
  std::string out;
  auto write = [&](const json& v) {
    if (v.is_array() || v.is_object()) {
      out += v.is_array() ? '[' : '{';
      open.push_back({&v, v.cbegin()});
    } else if (v.is_string()) {
      out += quoted_prefix(v.get_ref<const std::string&>(), limit);
    } else {
      out += v.dump();  // a number, a boolean or null: short
    }
  };
  write(value);
  while (!open.empty() && out.size() <= limit) {
    open_container& top = open.back();
    if (top.next == top.node->cend()) {
      out += top.node->is_array() ? ']' : '}';
      open.pop_back();
      continue;
    }
    if (top.next != top.node->cbegin()) out += ',';
    if (top.node->is_object()) out += quoted_prefix(top.next.key(), limit) + ':';
    const json& child = *top.next;
    ++top.next;  // before write(), which may grow `open` and move `top`
    write(child);
  }
  return out;
}

// The JSON path of the value that `open` (the containers entered, outermost first, each iterator one
// past the child entered) leads to.
std::string path_of(const std::string& base, const std::vector<std::pair<const json*, json::const_iterator>>& open) {
  std::string path = base;
  for (const auto& [node, next] : open) {
    const json::const_iterator entered = std::prev(next);
    if (node->is_array()) {
      path += "[" + std::to_string(entered - node->cbegin()) + "]";
    } else {
      if (!path.empty()) path += '.';
      path += entered.key();
    }
  }
  return path;
}

}  // namespace

void check_json_depth(const json& doc, const std::string& file, std::size_t max_depth) {
  // `open` holds the containers being walked, outermost first: its size is the depth of the values
  // their iterators reach, so no recursion is needed and the first too-deep value stops the walk.
  std::vector<std::pair<const json*, json::const_iterator>> open;
  if (!doc.is_array() && !doc.is_object()) return;
  open.emplace_back(&doc, doc.cbegin());
  while (!open.empty()) {
    auto& [node, next] = open.back();
    if (next == node->cend()) {
      open.pop_back();
      continue;
    }
    const json& child = *next;
    ++next;
    if (!child.is_array() && !child.is_object()) continue;
    if (open.size() + 1 > max_depth) {
      throw config_error(file, path_of("", open),
                         "arrays and objects nest deeper than " + std::to_string(max_depth) +
                             " levels (the limit for a config)");
    }
    open.emplace_back(&child, child.cbegin());
  }
}

nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw config_error(path.string(), "", "cannot open file");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw config_error(path.string(), "", std::string("invalid JSON: ") + e.what());
  } catch (const std::ios_base::failure& e) {
    // A path that opens but cannot be read (a directory, an I/O error): the stream's exception
    // would otherwise escape without naming the file.
    throw config_error(path.string(), "", std::string("cannot read file: ") + e.what());
  }
}

std::string json_fields::describe(const nlohmann::json& value) {
  std::string text = bounded_dump(value, kDescribeChars);
  if (text.size() > kDescribeChars) text = text.substr(0, kDescribeChars - 3) + "...";
  return std::string(value.type_name()) + " " + text;
}

const nlohmann::json& json_fields::required(std::string_view key) const {
  auto it = node_->find(key);
  if (it == node_->end()) fail(key, "required field is missing");
  return *it;
}

json_fields json_fields::object(std::string_view key) const {
  const nlohmann::json& v = required(key);
  if (!v.is_object()) fail(key, "must be a JSON object, got " + describe(v));
  return json_fields(v, file_, field_path(key));
}

const nlohmann::json& json_fields::array(std::string_view key) const {
  const nlohmann::json& v = required(key);
  if (!v.is_array()) fail(key, "must be an array, got " + describe(v));
  return v;
}

std::string json_fields::string(std::string_view key) const {
  const nlohmann::json& v = required(key);
  if (!v.is_string()) fail(key, "must be a string, got " + describe(v));
  return v.get<std::string>();
}

static_assert(sizeof(std::size_t) == sizeof(std::uint64_t),
              "a JSON integer nlohmann stores as an integer fits a size_t");

std::size_t json_fields::size_value(const nlohmann::json& v, const std::string& where) const {
  // nlohmann keeps integers written in a file as unsigned, but a json built in C++ from an int holds
  // a signed one: both are valid when not negative.
  if (v.is_number_unsigned()) return v.get<std::size_t>();
  if (v.is_number_integer()) {
    const auto n = v.get<std::int64_t>();
    if (n >= 0) return std::size_t(n);
    throw config_error(file_, where, "must not be negative, got " + std::to_string(n));
  }
  // An integer beyond 2^64 - 1 parses as a float: say that it is too large, not that it is a float.
  if (v.is_number_float() && v.get<double>() >= 0x1p64 && std::floor(v.get<double>()) == v.get<double>()) {
    throw config_error(file_, where,
                       "must be at most " + std::to_string(std::numeric_limits<std::size_t>::max()) +
                           ", got " + describe(v));
  }
  throw config_error(file_, where, "must be a non-negative integer, got " + describe(v));
}

std::size_t json_fields::size(std::string_view key) const { return size_value(required(key), field_path(key)); }

double json_fields::number(std::string_view key) const {
  const nlohmann::json& v = required(key);
  if (!v.is_number()) fail(key, "must be a number, got " + describe(v));
  return v.get<double>();
}

bool json_fields::boolean(std::string_view key) const {
  const nlohmann::json& v = required(key);
  if (!v.is_boolean()) fail(key, "must be true or false, got " + describe(v));
  return v.get<bool>();
}

std::string json_fields::string_or(std::string_view key, std::string fallback) const {
  return has(key) ? string(key) : fallback;
}
std::size_t json_fields::size_or(std::string_view key, std::size_t fallback) const {
  return has(key) ? size(key) : fallback;
}
double json_fields::number_or(std::string_view key, double fallback) const {
  return has(key) ? number(key) : fallback;
}
bool json_fields::boolean_or(std::string_view key, bool fallback) const {
  return has(key) ? boolean(key) : fallback;
}

std::vector<std::size_t> json_fields::size_list(std::string_view key, std::size_t min_length) const {
  const nlohmann::json& v = array(key);
  if (v.size() < min_length) {
    fail(key, "must have at least " + std::to_string(min_length) + " element(s), got " +
                  std::to_string(v.size()));
  }
  std::vector<std::size_t> out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    out.push_back(size_value(v[i], field_path(key) + "[" + std::to_string(i) + "]"));
  }
  return out;
}

json_fields json_fields::element(std::string_view key, std::size_t i) const {
  const nlohmann::json& v = array(key);
  const std::string where = field_path(key) + "[" + std::to_string(i) + "]";
  if (i >= v.size()) throw config_error(file_, where, "index out of range");
  if (!v[i].is_object()) throw config_error(file_, where, "must be a JSON object, got " + describe(v[i]));
  return json_fields(v[i], file_, where);
}

void json_fields::reject_unknown(std::initializer_list<std::string_view> known) const {
  for (auto it = node_->begin(); it != node_->end(); ++it) {
    bool ok = false;
    for (std::string_view k : known) ok = ok || it.key() == k;
    if (!ok) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      fail(it.key(), "unknown field (known fields: " + list + ")");
    }
  }
}

}  // namespace allocbench
