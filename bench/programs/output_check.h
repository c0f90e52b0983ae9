// What a run produced, reduced to hashes, and the comparison with glibc's run of the same program:
// a preloaded allocator must not change what a program computes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "bench/programs/program_config.h"

namespace allocbench::bench::programs {

struct output_digest {
  bool has_stdout = false;
  std::uint64_t stdout_hash = 0;
  std::uint64_t stdout_bytes = 0;
  struct file {
    std::string name;
    bool exists = false;
    std::uint64_t hash = 0;
    std::uint64_t bytes = 0;
  };
  std::vector<file> files;
};

// 64-bit FNV-1a of a file's bytes (not cryptographic: it guards against accidents, not adversaries).
struct file_hash {
  std::uint64_t hash = 0;
  std::uint64_t bytes = 0;
};
std::optional<file_hash> hash_file(const std::filesystem::path& p);

// Hashes what `spec` checks: the captured stdout and the named files of the run directory.
output_digest digest_output(const output_spec& spec, const std::filesystem::path& stdout_file,
                            const std::filesystem::path& run_dir);

// std::nullopt when `candidate` equals `reference`, else what differs, e.g.
// "stdout differs: 1234 bytes, hash 0x... (glibc: 1240 bytes, hash 0x...)".
std::optional<std::string> compare_outputs(const output_digest& reference, const output_digest& candidate);

std::string hex(std::uint64_t v);

}  // namespace allocbench::bench::programs
