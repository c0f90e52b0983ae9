// tools/soak: a long run of many threads on one preset (default: scalable), watching whether the
// bytes it holds from upstream stay bounded. See tools/soak for the command line.
//
// Every second it samples RSS and the resource's stats() (bytes_held: upstream bytes held;
// live_bytes: what the live blocks occupy) and prints a line. At the end: the least-squares slope of
// the held bytes over the steady state (the second half of the samples), a verdict line with its
// criterion (trend.h), and held/live at the end.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "pmr/presets.h"
#include "tools/soak_run/process_rss.h"
#include "tools/soak_run/soak_workload.h"
#include "tools/soak_run/trend.h"

namespace {

struct options {
  double seconds = 0;
  int threads = 16;
  std::string preset = "scalable";
  std::string csv;
  std::uint64_t seed = 1;
  std::uint64_t worker_ops = 120000;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "soak: %s\nusage: soak SECONDS [--threads=N] [--preset=NAME] [--csv=FILE] [--seed=N] [--worker-ops=N]\n", why);
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  bool have_seconds = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* flag) -> const char* {
      const std::size_t n = std::strlen(flag);
      return a.compare(0, n, flag) == 0 ? argv[i] + n : nullptr;
    };
    char* end = nullptr;
    if (const char* v = value("--threads=")) {
      o.threads = int(std::strtol(v, &end, 10));
      if (*end || o.threads < 1 || o.threads > 256) usage("--threads must be 1..256");
    } else if (const char* v = value("--preset=")) {
      o.preset = v;
    } else if (const char* v = value("--csv=")) {
      o.csv = v;
    } else if (const char* v = value("--worker-ops=")) {
      o.worker_ops = std::strtoull(v, &end, 10);
      if (*end) usage("--worker-ops must be a number (0: threads live the whole run)");
    } else if (const char* v = value("--seed=")) {
      o.seed = std::strtoull(v, &end, 10);
      if (*end) usage("--seed must be a number");
    } else if (!have_seconds && !a.empty() && a[0] != '-') {
      o.seconds = std::strtod(a.c_str(), &end);
      if (*end || !(o.seconds >= 1)) usage("SECONDS must be a number >= 1");
      have_seconds = true;
    } else {
      usage(("unknown argument " + a).c_str());
    }
  }
  if (!have_seconds) usage("SECONDS missing");
  return o;
}

double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  std::unique_ptr<allocbench::instrumented_resource> r;
  try {
    r = allocbench::make_preset(o.preset);
  } catch (const std::exception& e) {
    usage(e.what());
  }
  std::ofstream csv;
  if (!o.csv.empty()) {
    csv.open(o.csv);
    if (!csv) usage(("cannot write " + o.csv).c_str());
    csv << "t_s,rss_bytes,held_bytes,live_bytes,threads_started,operations,cross_thread_frees\n";
  }
  std::printf("soak: preset %s, %d threads, %.0f s, a sample every second; %s\n", o.preset.c_str(), o.threads,
              o.seconds,
              o.worker_ops ? ("a thread ends after about " + std::to_string(o.worker_ops) + " operations").c_str()
                           : "threads live the whole run");
  std::fflush(stdout);

  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  std::vector<allocbench::soak::sample> held;
  allocbench::resource_stats last;
  std::uint64_t last_rss = 0;
  allocbench::soak::workload_counts counts;
  {
    allocbench::soak::soak_workload work(*r, o.threads, o.seed, o.worker_ops);
    for (int k = 1; k <= int(o.seconds); ++k) {
      // The sampler's cadence, not synchronisation: nothing waits on it.
      std::this_thread::sleep_until(start + std::chrono::seconds(k));
      const double t = std::chrono::duration<double>(clock::now() - start).count();
      last = r->stats();
      last_rss = allocbench::soak::resident_bytes();
      counts = work.counts();
      held.push_back({t, double(last.bytes_held)});
      std::printf("t=%5.0f s  rss %8.1f MiB  held %8.1f MiB  live %8.1f MiB  held/live %5.2f  threads %6llu  "
                  "ops %8.1f M\n",
                  t, mib(double(last_rss)), mib(double(last.bytes_held)), mib(double(last.live_bytes)),
                  last.live_bytes ? double(last.bytes_held) / double(last.live_bytes) : 0.0,
                  static_cast<unsigned long long>(counts.threads_started), double(counts.operations) / 1e6);
      std::fflush(stdout);
      if (csv) {
        csv << t << ',' << last_rss << ',' << last.bytes_held << ',' << last.live_bytes << ','
            << counts.threads_started << ',' << counts.operations << ',' << counts.cross_thread_frees << '\n';
      }
    }
    work.stop();
    counts = work.counts();
  }
  const allocbench::resource_stats after = r->stats();

  const allocbench::soak::trend tr = allocbench::soak::steady_state_trend(held);
  std::printf("workload: %llu threads started and ended, %.1f M block operations, %.1f M cross-thread frees\n",
              static_cast<unsigned long long>(counts.threads_started), double(counts.operations) / 1e6,
              double(counts.cross_thread_frees) / 1e6);
  std::printf("steady state: %zu samples over %.0f s (second half); held slope %+.0f B/s (%+.3f %%/min of "
              "the mean %.1f MiB)\n",
              tr.samples, tr.window_seconds, tr.slope, tr.percent_per_minute, mib(tr.mean));
  std::printf("verdict: %s (criterion: the held bytes' least-squares line rises by less than %.0f %% of "
              "their mean over the steady state; it rises %+.2f %%)\n",
              tr.bounded ? "BOUNDED" : "NOT BOUNDED", allocbench::soak::kBoundedGrowth * 100,
              tr.growth_fraction * 100);
  std::printf("end: held %.1f MiB, live %.1f MiB, held/live %.2f, rss %.1f MiB; after freeing everything: "
              "live %llu blocks, held %.1f MiB\n",
              mib(double(last.bytes_held)), mib(double(last.live_bytes)),
              last.live_bytes ? double(last.bytes_held) / double(last.live_bytes) : 0.0, mib(double(last_rss)),
              static_cast<unsigned long long>(after.live_blocks), mib(double(after.bytes_held)));
  return 0;
}
