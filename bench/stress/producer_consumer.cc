// Producer/consumer hand-offs: each pair has a producer that builds messages (a `new` object owning a
// `new[]` payload and a std::vector of fields) and a consumer that checks and deletes them, through a
// bounded queue. Every message is freed by a thread other than the one that allocated it.
//
//   producer_consumer --pairs=2 --messages=60000 --queue=64 --min=16 --max=4096 --seed=1
//
// Each queue is FIFO with one producer and one consumer, so a pair's checksum depends only on the
// arguments; the total combines the pairs in order.
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "bench/stress/stress_common.h"

namespace {

using namespace allocbench::stress;

struct message {
  std::unique_ptr<unsigned char[]> payload;
  std::size_t size = 0;
  std::uint64_t tag = 0;
  std::vector<std::uint32_t> fields;
};

// A bounded blocking queue: the producer waits when it is full, the consumer when it is empty.
class bounded_queue {
 public:
  explicit bounded_queue(std::size_t capacity) : capacity_(capacity) {}

  void push(message* m) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return items_.size() < capacity_; });
    items_.push_back(m);
    not_empty_.notify_one();
  }

  message* pop() {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return !items_.empty(); });
    message* m = items_.front();
    items_.pop_front();
    not_full_.notify_one();
    return m;
  }

 private:
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<message*> items_;
  std::size_t capacity_;
};

}  // namespace

int main(int argc, char** argv) {
  const options o(argc, argv, {{"pairs", 2}, {"messages", 60000}, {"queue", 64}, {"seed", 1}, {"min", 16}, {"max", 4096}});
  const std::size_t pairs = o["pairs"], messages = o["messages"], queue = o["queue"], seed = o["seed"];
  const std::size_t min = o["min"], max = o["max"];
  std::vector<std::unique_ptr<bounded_queue>> queues;
  for (std::size_t i = 0; i < pairs; ++i) queues.push_back(std::make_unique<bounded_queue>(queue));
  std::vector<std::uint64_t> sums(pairs, 0);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < pairs; ++i) {
    threads.emplace_back([&, i] {
      rng r(seed, i);
      for (std::size_t n = 0; n < messages; ++n) {
        auto* m = new message;
        m->size = r.between(min, max);
        m->tag = r.next();
        m->payload.reset(new unsigned char[m->size]);
        fill_block(m->payload.get(), m->size, m->tag);
        m->fields.resize(r.between(1, 16), static_cast<std::uint32_t>(m->tag));
        queues[i]->push(m);
      }
      queues[i]->push(nullptr);  // end of stream
    });
    threads.emplace_back([&, i] {
      std::uint64_t sum = 0;
      while (message* m = queues[i]->pop()) {
        sum = sum * 31 + check_block(m->payload.get(), m->size, m->tag, "producer_consumer") + m->fields.size();
        delete m;
      }
      sums[i] = sum;
    });
  }
  for (std::thread& t : threads) t.join();
  std::uint64_t total = 0;
  for (std::uint64_t s : sums) total = total * 31 + s;
  print_checksum("producer_consumer", total);
  return 0;
}
