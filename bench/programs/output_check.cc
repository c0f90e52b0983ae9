#include "bench/programs/output_check.h"

#include <cstdio>
#include <fstream>

namespace allocbench::bench::programs {

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::optional<file_hash> hash_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  file_hash h{0xcbf29ce484222325ull, 0};
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    const std::streamsize n = in.gcount();
    for (std::streamsize i = 0; i < n; ++i) {
      h.hash = (h.hash ^ static_cast<unsigned char>(buf[i])) * 0x100000001b3ull;
    }
    h.bytes += static_cast<std::uint64_t>(n);
  }
  return h;
}

output_digest digest_output(const output_spec& spec, const std::filesystem::path& stdout_file,
                            const std::filesystem::path& run_dir) {
  output_digest d;
  if (spec.stdout_checked) {
    const std::optional<file_hash> h = hash_file(stdout_file);
    d.has_stdout = true;
    if (h) {
      d.stdout_hash = h->hash;
      d.stdout_bytes = h->bytes;
    }
  }
  for (const std::string& name : spec.files) {
    output_digest::file f{name, false, 0, 0};
    if (const std::optional<file_hash> h = hash_file(run_dir / name)) {
      f.exists = true;
      f.hash = h->hash;
      f.bytes = h->bytes;
    }
    d.files.push_back(f);
  }
  return d;
}

namespace {

std::string describe(bool exists, std::uint64_t bytes, std::uint64_t hash) {
  return exists ? std::to_string(bytes) + " bytes, hash " + hex(hash) : std::string("missing");
}

}  // namespace

std::optional<std::string> compare_outputs(const output_digest& reference, const output_digest& candidate) {
  std::string diff;
  auto note = [&diff](const std::string& what) { diff += (diff.empty() ? "" : "; ") + what; };
  if (reference.has_stdout != candidate.has_stdout ||
      (reference.has_stdout &&
       (reference.stdout_hash != candidate.stdout_hash || reference.stdout_bytes != candidate.stdout_bytes))) {
    note("stdout differs: " + describe(candidate.has_stdout, candidate.stdout_bytes, candidate.stdout_hash) +
         " (glibc: " + describe(reference.has_stdout, reference.stdout_bytes, reference.stdout_hash) + ")");
  }
  if (reference.files.size() != candidate.files.size()) {
    note("checked " + std::to_string(candidate.files.size()) + " files, glibc's run " +
         std::to_string(reference.files.size()));
    return diff;
  }
  for (std::size_t i = 0; i < reference.files.size(); ++i) {
    const output_digest::file& r = reference.files[i];
    const output_digest::file& c = candidate.files[i];
    if (r.name != c.name || r.exists != c.exists || r.hash != c.hash || r.bytes != c.bytes) {
      note("file " + c.name + " differs: " + describe(c.exists, c.bytes, c.hash) + " (glibc: " +
           describe(r.exists, r.bytes, r.hash) + ")");
    }
  }
  if (diff.empty()) return std::nullopt;
  return diff;
}

}  // namespace allocbench::bench::programs
