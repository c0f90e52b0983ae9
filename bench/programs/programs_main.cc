// //bench:programs: runs real programs (configs/programs/*.json) under every allocator that can
// replace malloc by LD_PRELOAD, checks that each run's output equals glibc's, and reports wall time,
// user+system time and peak RSS: medians, ratios to glibc and geometric means.
//
// Order of work: every config is parsed first; each program's input is generated (untimed) and the
// program run once under glibc, untimed, for the reference output and a warm page cache; then
// repetition 1 of every program under every allocator, repetition 2, ... (the allocators' order
// rotates from one repetition to the next). Exit status: 0 when every run succeeded with glibc's
// output, 1 when any failed or differed (the table says FAILED and a line names program and
// allocator), 2 for bad flags or configs.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string_view>

#include "bench/cli_args.h"
#include "bench/programs/child_process.h"
#include "bench/programs/output_check.h"
#include "bench/programs/preload_allocators.h"
#include "bench/programs/program_config.h"
#include "bench/programs/program_input.h"
#include "bench/programs/program_results.h"
#include "bench/provenance.h"
#include "bench/runfile_path.h"

namespace ab = allocbench::bench;
namespace bp = allocbench::bench::programs;
namespace fs = std::filesystem;

namespace {

constexpr const char* kUsage =
    "usage: bazel run //bench:programs -- [flags]\n"
    "  --programs=a,b         programs to run (names from the config files; default: all)\n"
    "  --allocators=a,b       allocators (default: glibc,jemalloc,tcmalloc,mimalloc,tbb,ours; glibc always\n"
    "                         runs, as the reference)\n"
    "  --preload=NAME=PATH    run the library PATH as allocator NAME (also `--preload NAME=PATH`;\n"
    "                         repeatable; replaces a default of that name)\n"
    "  --reps=N               timed repetitions, interleaved across allocators (default 5)\n"
    "  --program-dir=DIR      where the *.json configs are (default: configs/programs)\n"
    "  --out=DIR              where programs.csv/.json go (default: bench/results)\n"
    "  --keep-temp            keep the temporary directory of inputs and outputs\n";

using ab::env_or;
using ab::user_path;

// `--preload NAME=PATH` (two words) becomes `--preload=NAME=PATH`, the form cli_args reads.
std::vector<std::string> joined_flags(int argc, char** argv) {
  std::vector<std::string> out = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--preload" && i + 1 < argc) {
      out.push_back(std::string("--preload=") + argv[++i]);
    } else {
      out.emplace_back(argv[i]);
    }
  }
  return out;
}

// The run's inputs and outputs, under $TMPDIR; removed at the end (also when a run throws) unless kept.
struct temp_dir {
  fs::path path;
  bool keep;

  explicit temp_dir(bool keep_it) : keep(keep_it) {
    std::string t = (fs::path(env_or("TMPDIR", "/tmp")) / "allocbench-programs-XXXXXX").string();
    if (mkdtemp(t.data()) == nullptr) throw std::runtime_error("cannot create a directory in $TMPDIR");
    path = t;
  }
  ~temp_dir() {
    if (keep) {
      std::fprintf(stderr, "kept %s\n", path.c_str());
      return;
    }
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

struct prepared_program {
  bp::program_config config;
  fs::path input_dir;
  std::vector<std::string> command;
  std::vector<std::pair<std::string, std::string>> env;
  bp::output_digest reference;
};

// Runs `p` once under allocator `a` in a fresh `run_dir`; fills the output digest.
bp::child_result run_once(const prepared_program& p, const bp::preload_allocator& a, const fs::path& run_dir,
                          bp::output_digest* digest) {
  fs::remove_all(run_dir);
  fs::create_directories(run_dir);
  bp::child_spec spec;
  spec.argv = p.command;
  spec.env = p.env;
  spec.env.emplace_back("LC_ALL", "C");
  spec.env.emplace_back("LD_PRELOAD", a.library);  // "" (glibc) removes an inherited one
  spec.cwd = run_dir;
  spec.stdout_file = run_dir.parent_path() / (run_dir.filename().string() + ".stdout");
  spec.stderr_file = run_dir.parent_path() / (run_dir.filename().string() + ".stderr");
  spec.timeout_seconds = p.config.timeout_seconds;
  const bp::child_result r = bp::run_child(spec);
  *digest = bp::digest_output(p.config.output, spec.stdout_file, run_dir);
  return r;
}

std::string failure_text(const bp::child_result& r, const fs::path& run_dir) {
  const fs::path err = run_dir.parent_path() / (run_dir.filename().string() + ".stderr");
  return r.describe_failure() + "; stderr: " + bp::file_head(err, 600);
}

int run(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  std::vector<std::string> flags = joined_flags(argc, argv);
  std::vector<char*> flag_ptrs;
  for (std::string& f : flags) flag_ptrs.push_back(f.data());
  const ab::cli_args args(static_cast<int>(flag_ptrs.size()), flag_ptrs.data());
  args.reject_unknown({"programs", "allocators", "preload", "reps", "program-dir", "out", "keep-temp"});
  const int reps = args.integer_or("reps", 5);
  if (reps < 1 || reps > 1000) throw std::invalid_argument("--reps must be 1..1000");
  const std::string workspace = env_or("BUILD_WORKSPACE_DIRECTORY", "");
  const bp::runfile_lookup runfile = [argv0 = argv[0]](const std::string& path) { return ab::runfile(argv0, path); };

  // Everything is checked before the first run.
  const fs::path program_dir = args.has("program-dir")
                                   ? fs::path(user_path(args.value("program-dir")))
                                   : fs::path(runfile("configs/programs/python_json.json")).parent_path();
  std::vector<bp::program_config> configs = bp::load_program_dir(program_dir);
  const std::vector<std::string> wanted = args.list("programs");
  if (!wanted.empty()) {
    std::vector<bp::program_config> chosen;
    for (const std::string& w : wanted) {
      auto it = std::find_if(configs.begin(), configs.end(), [&](const bp::program_config& c) { return c.name == w; });
      if (it == configs.end()) {
        std::string known;
        for (const bp::program_config& c : configs) known += (known.empty() ? "" : ", ") + c.name;
        throw std::invalid_argument("--programs: unknown program '" + w + "' (known: " + known + ")");
      }
      chosen.push_back(*it);
    }
    configs = chosen;
  }
  const std::string ours = runfile("malloc/libscalable_malloc.so");
  const std::vector<bp::preload_allocator> allocators = bp::choose_allocators(
      bp::default_allocators(fs::exists(ours) ? ours : ""), args.list("preload"), args.list("allocators"));

  std::vector<std::string> allocator_names, program_names;
  std::vector<std::pair<std::string, std::string>> skipped;
  std::vector<const bp::preload_allocator*> active;
  for (const bp::preload_allocator& a : allocators) {
    allocator_names.push_back(a.name);
    if (a.skipped.empty()) {
      active.push_back(&a);
    } else {
      skipped.emplace_back(a.name, a.skipped);
      std::fprintf(stderr, "skipping allocator %s: %s\n", a.name.c_str(), a.skipped.c_str());
    }
  }
  const fs::path out_dir = ab::results_dir(args);
  fs::create_directories(out_dir);

  const temp_dir tmp_dir(args.has("keep-temp"));
  const fs::path& tmp = tmp_dir.path;

  // Inputs and the reference runs.
  std::vector<prepared_program> programs;
  const bp::preload_allocator& glibc = allocators.front();
  for (const bp::program_config& c : configs) {
    prepared_program p{c, tmp / "input" / c.name, {}, {}, {}};
    std::fprintf(stderr, "preparing %s ...\n", c.name.c_str());
    bp::prepare_input(c, p.input_dir, runfile);
    p.command = bp::expanded_command(c, p.input_dir, runfile);
    p.env = bp::expanded_env(c, p.input_dir, runfile);
    const fs::path run_dir = tmp / "run" / (c.name + "-reference");
    const bp::child_result r = run_once(p, glibc, run_dir, &p.reference);
    if (!r.succeeded()) {
      throw std::runtime_error(c.source + ": the reference run under glibc " + failure_text(r, run_dir));
    }
    std::fprintf(stderr, "  reference run: %.2f s wall, %.2f s user+system, %ld KiB peak RSS\n", r.wall_seconds,
                 r.user_seconds + r.system_seconds, r.peak_rss_kib);
    program_names.push_back(c.name);
    programs.push_back(std::move(p));
  }

  std::vector<bp::run_record> runs;
  std::vector<std::pair<std::string, std::string>> failed;  // program, allocator: no more runs
  for (int rep = 0; rep < reps; ++rep) {
    for (const prepared_program& p : programs) {
      for (std::size_t k = 0; k < active.size(); ++k) {
        const bp::preload_allocator& a = *active[(k + rep) % active.size()];
        if (std::find(failed.begin(), failed.end(), std::make_pair(p.config.name, a.name)) != failed.end()) continue;
        const fs::path run_dir = tmp / "run" / (p.config.name + "-" + a.name);
        bp::output_digest digest;
        const bp::child_result r = run_once(p, a, run_dir, &digest);
        bp::run_record rec{p.config.name, a.name, rep + 1, r.wall_seconds, r.user_seconds + r.system_seconds,
                           r.peak_rss_kib, ""};
        if (!r.succeeded()) {
          rec.failure = failure_text(r, run_dir);
        } else if (const std::optional<std::string> diff = bp::compare_outputs(p.reference, digest)) {
          rec.failure = "output differs from glibc's: " + *diff;
        }
        std::fprintf(stderr, "rep %d/%d  %-22s %-10s %7.3f s wall %7.3f s cpu %8ld KiB%s\n", rep + 1, reps,
                     p.config.name.c_str(), a.name.c_str(), rec.wall_seconds, rec.cpu_seconds, rec.peak_rss_kib,
                     rec.failure.empty() ? "" : "  FAILED");
        if (!rec.failure.empty()) {
          std::fprintf(stderr, "FAILED: program %s under allocator %s: %s\n", p.config.name.c_str(), a.name.c_str(),
                       rec.failure.c_str());
          failed.emplace_back(p.config.name, a.name);
        }
        runs.push_back(std::move(rec));
      }
    }
  }

  const std::vector<bp::program_cell> cells = bp::summarize_runs(runs, program_names, allocator_names, skipped);
  const std::vector<bp::allocator_geomean> means = bp::geomeans(cells, allocator_names);
  bp::write_programs_table(std::cout, cells, means, program_names, allocator_names, reps);

  nlohmann::json provenance = ab::collect_machine_provenance(workspace);
  nlohmann::json versions, configs_json, libraries;
  for (const prepared_program& p : programs) {
    configs_json[p.config.name] = p.config.raw;
    if (!p.config.package.empty()) versions[p.config.package] = ab::installed_version(p.config.package);
  }
  for (const bp::preload_allocator& a : allocators) libraries[a.name] = a.library.empty() ? "(none)" : a.library;
  provenance["programs"] = configs_json;
  provenance["program_packages"] = versions;
  provenance["preloads"] = libraries;
  const nlohmann::json settings = {{"reps", reps},
                                   {"allocators", allocator_names},
                                   {"skipped", skipped},
                                   {"order", "a reference run under glibc per program (untimed); then repetition "
                                             "by repetition, every program under every allocator, the allocators' "
                                             "order rotating"},
                                   {"measures", "wall: fork to reap; cpu: user+system of the child and its "
                                                "waited-for descendants; peak RSS: wait4's ru_maxrss (the largest "
                                                "of the process tree)"}};
  bp::write_programs_csv(out_dir / "programs.csv", provenance, cells);
  bp::write_programs_json(out_dir / "programs.json", provenance, settings, cells, means, runs);
  std::cout << "wrote " << (out_dir / "programs").string() << ".csv and .json\n";
  if (!failed.empty()) {
    for (const auto& [program, allocator] : failed) {
      std::fprintf(stderr, "FAILED: program %s under allocator %s (see above)\n", program.c_str(), allocator.c_str());
    }
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return ab::run_main("allocbench programs", run, argc, argv); }
