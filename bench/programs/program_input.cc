#include "bench/programs/program_input.h"

#include <fstream>
#include <iterator>
#include <stdexcept>

#include "bench/programs/child_process.h"

namespace allocbench::bench::programs {
namespace {

std::filesystem::path config_dir(const program_config& p) {
  return std::filesystem::absolute(std::filesystem::path(p.source)).parent_path();
}

}  // namespace

std::string file_head(const std::filesystem::path& p, std::size_t max_bytes) {
  std::ifstream in(p, std::ios::binary);
  std::string s(max_bytes, '\0');
  in.read(s.data(), static_cast<std::streamsize>(max_bytes));
  s.resize(static_cast<std::size_t>(in.gcount()));
  return s;
}

std::vector<std::string> expanded_command(const program_config& p, const std::filesystem::path& input_dir,
                                          const runfile_lookup& runfile) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < p.command.size(); ++i) {
    out.push_back(expand_placeholders(p.command[i], input_dir, config_dir(p), runfile, p.source,
                                      "command[" + std::to_string(i) + "]"));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> expanded_env(const program_config& p,
                                                              const std::filesystem::path& input_dir,
                                                              const runfile_lookup& runfile) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [k, v] : p.env) {
    out.emplace_back(k, expand_placeholders(v, input_dir, config_dir(p), runfile, p.source, "env." + k));
  }
  return out;
}

void prepare_input(const program_config& p, const std::filesystem::path& input_dir, const runfile_lookup& runfile) {
  namespace fs = std::filesystem;
  fs::create_directories(input_dir);
  for (std::size_t s = 0; s < p.input.size(); ++s) {
    const input_step& step = p.input[s];
    const std::string where = p.source + ": input[" + std::to_string(s) + "]";
    if (step.type == input_step::kind::copy) {
      const fs::path from = config_dir(p) / step.copy_from;
      std::error_code ec;
      fs::copy_file(from, input_dir / fs::path(step.copy_from).filename(), fs::copy_options::overwrite_existing, ec);
      if (ec) throw std::runtime_error(where + ": cannot copy " + from.string() + ": " + ec.message());
      continue;
    }
    child_spec spec;
    for (std::size_t i = 0; i < step.argv.size(); ++i) {
      spec.argv.push_back(expand_placeholders(step.argv[i], input_dir, config_dir(p), runfile, p.source,
                                              "input[" + std::to_string(s) + "].run[" + std::to_string(i) + "]"));
    }
    spec.env = {{"LD_PRELOAD", ""}, {"LC_ALL", "C"}};
    spec.cwd = input_dir;
    spec.stdout_file = input_dir / (".step" + std::to_string(s) + ".out");
    spec.stderr_file = input_dir / (".step" + std::to_string(s) + ".err");
    spec.timeout_seconds = p.timeout_seconds;
    const child_result r = run_child(spec);
    if (!r.succeeded()) {
      throw std::runtime_error(where + ": the input generator " + spec.argv[0] + " " + r.describe_failure() +
                               "; its stderr:\n" + file_head(spec.stderr_file));
    }
  }
}

}  // namespace allocbench::bench::programs
