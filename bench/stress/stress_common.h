// What the stress programs share: a seeded generator, block filling and checking, option parsing
// and the checksum line the output check compares. Each program uses only malloc/free or
// new/delete, so any allocator given by LD_PRELOAD serves it; none depends on timing or scheduling:
// its output is a function of its arguments alone.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace allocbench::stress {

// splitmix64: tiny, and every (seed, stream) pair gives its own independent sequence.
class rng {
 public:
  explicit rng(std::uint64_t seed, std::uint64_t stream = 0) : state_(seed * 0x9e3779b97f4a7c15ull + stream) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi].
  std::size_t between(std::size_t lo, std::size_t hi) { return lo + next() % (hi - lo + 1); }

 private:
  std::uint64_t state_;
};

// The byte a block of `tag` holds at offset i: a block checked at free must still hold its pattern,
// so an allocator that hands one block out twice or corrupts it is caught.
inline unsigned char pattern_byte(std::uint64_t tag, std::size_t i) {
  return static_cast<unsigned char>((tag >> ((i % 8) * 8)) + i);
}

// The bytes fill_block writes and check_block reads: the first 8, the last 8 and one per 64-byte
// line between, so that big blocks cost little while every line of a block is touched.
inline std::size_t next_checked(std::size_t i, std::size_t size) {
  const std::size_t tail = size > 8 ? size - 8 : 0;
  if (i + 1 < 8 || i + 1 >= tail) return i + 1;
  const std::size_t line = (i / 64 + 1) * 64;
  return line < tail ? line : tail;
}

inline void fill_block(unsigned char* p, std::size_t size, std::uint64_t tag) {
  for (std::size_t i = 0; i < size; i = next_checked(i, size)) p[i] = pattern_byte(tag, i);
}

// Checks what fill_block wrote; a damaged block ends the program with exit status 3. Returns the
// block's contribution to the checksum.
inline std::uint64_t check_block(const unsigned char* p, std::size_t size, std::uint64_t tag, const char* who) {
  for (std::size_t i = 0; i < size; i = next_checked(i, size)) {
    if (p[i] != pattern_byte(tag, i)) {
      std::fprintf(stderr, "%s: block %p of %zu bytes damaged at offset %zu\n", who, static_cast<const void*>(p),
                   size, i);
      std::exit(3);
    }
  }
  return tag * 0x100000001b3ull + size;
}

// A program's --name=value options, each declared once with its default, in the order their values
// are checked. An argument that is none of them is a usage error (exit status 2), reported before any
// value; so is a value that is not a positive integer, and --min above --max when both are declared
// (checked as soon as max is read, so in the declared order too).
class options {
 public:
  struct option {
    const char* name;
    std::size_t fallback;
  };

  options(int argc, char** argv, std::initializer_list<option> declared) : program_(argv[0]) {
    for (int i = 1; i < argc; ++i) {
      bool known = false;
      for (const option& o : declared) known = known || value_text(argv[i], o.name) != nullptr;
      if (!known) usage_error("unknown argument '" + std::string(argv[i]) + "'");
    }
    for (const option& o : declared) {
      std::size_t v = o.fallback;
      for (int i = 1; i < argc; ++i) {
        if (const char* text = value_text(argv[i], o.name)) {
          v = parse(o.name, text);
          break;  // the first one given counts
        }
      }
      values_.push_back({o.name, v});
      if (std::strcmp(o.name, "max") == 0 && has("min") && (*this)["min"] > v) {
        usage_error("--min must not exceed --max");
      }
    }
  }

  // The value of a declared option; a name not declared is the program's own bug (exit status 2).
  std::size_t operator[](const char* name) const {
    for (const auto& [n, v] : values_) {
      if (std::strcmp(n, name) == 0) return v;
    }
    usage_error("no option --" + std::string(name) + " declared");
  }

 private:
  bool has(const char* name) const {
    for (const auto& [n, v] : values_) {
      if (std::strcmp(n, name) == 0) return true;
    }
    return false;
  }

  // The value part of `argument` when it is --name=value, else nullptr.
  static const char* value_text(const char* argument, const char* name) {
    const std::size_t n = std::strlen(name);
    if (std::strncmp(argument, "--", 2) != 0 || std::strncmp(argument + 2, name, n) != 0 || argument[2 + n] != '=') {
      return nullptr;
    }
    return argument + 3 + n;
  }

  std::size_t parse(const char* name, const char* text) const {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text, &end, 10);
    if (end == text || *end != '\0' || v == 0) {
      usage_error("--" + std::string(name) + " must be a positive integer, got '" + text + "'");
    }
    return static_cast<std::size_t>(v);
  }

  [[noreturn]] void usage_error(const std::string& what) const {
    std::fprintf(stderr, "%s: %s\n", program_, what.c_str());
    std::exit(2);
  }

  const char* program_;
  std::vector<std::pair<const char*, std::size_t>> values_;
};

// The line every stress program ends with; the runner compares it across allocators.
inline void print_checksum(const char* program, std::uint64_t checksum) {
  std::printf("%s checksum %016llx\n", program, static_cast<unsigned long long>(checksum));
}

}  // namespace allocbench::stress
