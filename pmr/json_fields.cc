#include "pmr/json_fields.h"

#include <fstream>
#include <ios>
#include <limits>
#include <sstream>

namespace allocbench {

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
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
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

std::size_t json_fields::size(std::string_view key) const {
  const nlohmann::json& v = required(key);
  if (v.is_number_unsigned()) return v.get<std::size_t>();
  if (v.is_number_integer()) fail(key, "must not be negative, got " + v.dump());
  fail(key, "must be a non-negative integer, got " + describe(v));
}

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
    if (!v[i].is_number_unsigned()) {
      throw config_error(file_, field_path(key) + "[" + std::to_string(i) + "]",
                         "must be a non-negative integer, got " + describe(v[i]));
    }
    out.push_back(v[i].get<std::size_t>());
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
