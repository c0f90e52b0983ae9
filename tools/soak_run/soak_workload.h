// The soak's workload: `slots` worker threads on one memory_resource, run until stop().
//
// Each slot runs one worker thread at a time; a worker lives for a random number of operations and
// then ends, and the slot starts a fresh one (so threads are created and end all through the run,
// and their caches come and go). A worker's operations, through std::pmr:
// - raw blocks of mixed sizes (mostly 16-256 B, some up to 4 KiB and 32 KiB, a few of 32-256 KiB that
//   go past the size classes), some 64-byte aligned, each written, in a live set of up to 512;
// - a free of a random live block, a quarter of them handed to another slot's mailbox, whose worker
//   frees it (cross-thread frees); a worker that ends hands half its live blocks on the same way;
// - now and then a std::pmr::vector<float>, and entries of a std::pmr::map of std::pmr::string keys
//   to std::pmr::vector<int>, kept per worker and replaced at random.
// The live set is bounded per worker, so live bytes level off: what an allocator holds beyond them is
// its own caches, spans and fragmentation, which is what the soak watches.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <mutex>
#include <thread>
#include <vector>

namespace allocbench::soak {

struct workload_counts {
  std::uint64_t operations = 0;          // raw block allocations and frees (not the containers')
  std::uint64_t cross_thread_frees = 0;  // blocks freed by a slot other than the allocating one
  std::uint64_t threads_started = 0;     // worker threads created (and, by stop(), ended)
};

class soak_workload {
 public:
  // worker_ops: a worker lives for 1/6 to 11/6 of this many operations (uniform); 0: for the whole run.
  soak_workload(std::pmr::memory_resource& r, int slots, std::uint64_t seed, std::uint64_t worker_ops = 120000);
  ~soak_workload();  // stops if still running

  // Counts so far (workers publish theirs every few thousand operations and when they end).
  workload_counts counts() const;

  // Ends every worker, frees every block still in a mailbox; afterwards nothing of the workload is
  // allocated.
  void stop();

 private:
  struct block {
    void* p;
    std::size_t bytes;
    std::size_t alignment;
  };
  struct mailbox {
    std::mutex mu;
    std::vector<block> blocks;
  };

  void run_slot(int slot, std::uint64_t seed);
  void run_worker(int slot, std::uint64_t seed);
  void post(int slot, const block& b);
  void drain(int slot);

  std::pmr::memory_resource& r_;
  const int slots_;
  const std::uint64_t worker_ops_;
  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<mailbox>> mailboxes_;
  std::vector<std::thread> slot_threads_;
  std::atomic<std::uint64_t> operations_{0}, cross_thread_frees_{0}, threads_started_{0};
};

}  // namespace allocbench::soak
