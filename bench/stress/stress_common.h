// What the stress programs share: a seeded generator, block filling and checking, argument parsing
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

// --name=value arguments with defaults; anything else is a usage error (exit status 2).
inline std::size_t arg(int argc, char** argv, const char* name, std::size_t fallback) {
  const std::size_t n = std::strlen(name);
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--", 2) == 0 && std::strncmp(argv[i] + 2, name, n) == 0 && argv[i][2 + n] == '=') {
      char* end = nullptr;
      const unsigned long long v = std::strtoull(argv[i] + 3 + n, &end, 10);
      if (end == argv[i] + 3 + n || *end != '\0' || v == 0) {
        std::fprintf(stderr, "%s: --%s must be a positive integer, got '%s'\n", argv[0], name, argv[i] + 3 + n);
        std::exit(2);
      }
      return static_cast<std::size_t>(v);
    }
  }
  return fallback;
}

// Rejects arguments that are not among `names` (a typo must not silently run the defaults).
inline void reject_unknown(int argc, char** argv, std::initializer_list<const char*> names) {
  for (int i = 1; i < argc; ++i) {
    bool known = false;
    for (const char* n : names) {
      const std::size_t len = std::strlen(n);
      known = known || (std::strncmp(argv[i], "--", 2) == 0 && std::strncmp(argv[i] + 2, n, len) == 0 &&
                        argv[i][2 + len] == '=');
    }
    if (!known) {
      std::fprintf(stderr, "%s: unknown argument '%s'\n", argv[0], argv[i]);
      std::exit(2);
    }
  }
}

// --min=B and --max=B, the block sizes a program draws from; min > max is a usage error (exit 2).
struct size_range {
  std::size_t min, max;
};
inline size_range sizes(int argc, char** argv, std::size_t default_min, std::size_t default_max) {
  const size_range r{arg(argc, argv, "min", default_min), arg(argc, argv, "max", default_max)};
  if (r.min > r.max) {
    std::fprintf(stderr, "%s: --min must not exceed --max\n", argv[0]);
    std::exit(2);
  }
  return r;
}

// The line every stress program ends with; the runner compares it across allocators.
inline void print_checksum(const char* program, std::uint64_t checksum) {
  std::printf("%s checksum %016llx\n", program, static_cast<unsigned long long>(checksum));
}

}  // namespace allocbench::stress
