// Prepares a program's input directory before anything is timed: "copy" steps copy files from the
// config's directory, "run" steps run a generator (under glibc, LC_ALL=C) in the input directory.
#pragma once

#include <filesystem>

#include "bench/programs/program_config.h"

namespace allocbench::bench::programs {

// Creates `input_dir` and runs the steps in order. A missing file or a failing generator throws
// std::runtime_error naming the config, the step and the generator's stderr.
void prepare_input(const program_config& p, const std::filesystem::path& input_dir, const runfile_lookup& runfile);

// The program's command with its placeholders expanded.
std::vector<std::string> expanded_command(const program_config& p, const std::filesystem::path& input_dir,
                                          const runfile_lookup& runfile);
std::vector<std::pair<std::string, std::string>> expanded_env(const program_config& p,
                                                              const std::filesystem::path& input_dir,
                                                              const runfile_lookup& runfile);

// The first `max_bytes` of a file, for error messages ("" when it cannot be read).
std::string file_head(const std::filesystem::path& p, std::size_t max_bytes = 2000);

}  // namespace allocbench::bench::programs
