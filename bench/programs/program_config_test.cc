// configs/programs/*.json and testdata/programs/: every shipped config parses; every bad file fails
// with its file, field and reason; placeholders expand.
#include "bench/programs/program_config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "pmr/config_error.h"

namespace {

namespace bp = allocbench::bench::programs;

TEST(ProgramConfig, EveryShippedProgramParses) {
  const std::vector<bp::program_config> all = bp::load_program_dir("configs/programs");
  ASSERT_GE(all.size(), 10u);
  for (const bp::program_config& p : all) {
    EXPECT_FALSE(p.command.empty()) << p.source;
    EXPECT_TRUE(p.output.stdout_checked || !p.output.files.empty()) << p.source;
  }
}

TEST(ProgramConfig, GoodFileHasEveryField) {
  const bp::program_config p = bp::load_program("testdata/programs/good_full.json");
  EXPECT_EQ(p.name, "good_full");
  EXPECT_EQ(p.package, "coreutils");
  ASSERT_EQ(p.command.size(), 4u);
  ASSERT_EQ(p.env.size(), 2u);
  EXPECT_EQ(p.env[1], std::make_pair(std::string("B"), std::string("plain")));
  ASSERT_EQ(p.input.size(), 2u);
  EXPECT_EQ(p.input[0].type, bp::input_step::kind::copy);
  EXPECT_EQ(p.input[1].type, bp::input_step::kind::run);
  EXPECT_FALSE(p.output.stdout_checked);
  EXPECT_EQ(p.output.files, std::vector<std::string>{"out.txt"});
  EXPECT_EQ(p.timeout_seconds, 30);
}

struct bad_case {
  const char* file;
  const char* field;
  const char* reason_part;
};

TEST(ProgramConfig, BadFilesNameFileFieldAndReason) {
  const bad_case cases[] = {
      {"bad_missing_command", "command", "required field is missing"},
      {"bad_empty_command", "command", "must not be empty"},
      {"bad_unknown_field", "comand", "unknown field"},
      {"bad_name", "name", "lower-case letters"},
      {"bad_command_element", "command[1]", "must be a non-empty string, got"},
      {"bad_env_preload", "env.LD_PRELOAD", "set by the runner"},
      {"bad_env_value", "env.A", "must be a string"},
      {"bad_input_both", "input[0]", "exactly one of \"copy\""},
      {"bad_input_copy_escape", "input[0].copy", "without .."},
      {"bad_input_run_empty", "input[0].run", "must not be empty"},
      {"bad_output_nothing", "output", "checks nothing"},
      {"bad_output_file_absolute", "output.files[0]", "relative to the run directory"},
      {"bad_timeout", "timeout_seconds", "(0, 3600]"},
      {"bad_placeholder", "command[0]", "unknown placeholder {inptu}"},
      {"bad_placeholder_runfile", "input[0].run[1]", "unknown placeholder {runfile:}"},
  };
  for (const bad_case& c : cases) {
    const std::string file = std::string("testdata/programs/") + c.file + ".json";
    try {
      bp::load_program(file);
      ADD_FAILURE() << file << " was accepted";
    } catch (const allocbench::config_error& e) {
      EXPECT_EQ(e.file(), file);
      EXPECT_EQ(e.field(), c.field) << e.what();
      EXPECT_NE(e.reason().find(c.reason_part), std::string::npos) << e.what();
    }
  }
}

TEST(ProgramConfig, DuplicateNamesInADirectoryAreAnError) {
  const std::filesystem::path dir = std::filesystem::path(std::getenv("TEST_TMPDIR")) / "dup";
  std::filesystem::create_directories(dir);
  for (const char* f : {"a.json", "b.json"}) {
    std::ofstream(dir / f) << R"({"name": "same", "command": ["/bin/true"]})";
  }
  try {
    bp::load_program_dir(dir);
    ADD_FAILURE() << "duplicate names accepted";
  } catch (const allocbench::config_error& e) {
    EXPECT_EQ(e.file(), (dir / "b.json").string());
    EXPECT_EQ(e.field(), "name");
    EXPECT_NE(e.reason().find("also the name in"), std::string::npos) << e.what();
  }
}

TEST(ProgramConfig, PlaceholdersExpand) {
  const bp::runfile_lookup rf = [](const std::string& p) { return "/runfiles/" + p; };
  EXPECT_EQ(bp::expand_placeholders("{input}/a {config_dir} {runfile:bench/x} {", "/in", "/cfg", rf, "f", "c"),
            "/in/a /cfg /runfiles/bench/x {");
  EXPECT_EQ(bp::expand_placeholders("no braces", "/in", "/cfg", rf, "f", "c"), "no braces");
  EXPECT_THROW(bp::expand_placeholders("{nope}", "/in", "/cfg", rf, "f", "c"), allocbench::config_error);
}

}  // namespace
