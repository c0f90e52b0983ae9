// Trace generation for the three patterns (see workload_config.h). Plain, unhurried code: it runs
// once per thread count before timing.
#include "bench/trace.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <stdexcept>
#include <queue>
#include <random>

namespace allocbench::bench {
namespace {

using rng_t = std::mt19937_64;

double uniform01(rng_t& rng) { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }

// A weighted choice by binary search over cumulative weights, built once per distribution (building
// a std::discrete_distribution per draw would dominate trace generation).
class weighted_pick {
 public:
  weighted_pick() = default;
  weighted_pick(const double* w, std::size_t n) {
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) cumulative_.push_back(sum += w[i]);
  }
  std::size_t operator()(rng_t& rng) const {
    const double x = uniform01(rng) * cumulative_.back();
    const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), x);
    return std::min<std::size_t>(std::size_t(it - cumulative_.begin()), cumulative_.size() - 1);
  }

 private:
  std::vector<double> cumulative_;
};

class size_sampler {
 public:
  explicit size_sampler(const size_distribution& d) : d_(&d) {
    if (d.type == size_distribution::kind::buckets) pick_ = weighted_pick(d.weights.data(), d.weights.size());
  }
  std::uint32_t operator()(rng_t& rng) const;

 private:
  const size_distribution* d_;
  weighted_pick pick_;
};

std::uint32_t size_sampler::operator()(rng_t& rng) const {
  const size_distribution& d = *d_;
  switch (d.type) {
    case size_distribution::kind::buckets:
      return d.values[pick_(rng)];
    case size_distribution::kind::uniform:
      return std::uniform_int_distribution<std::uint32_t>(d.values[0], d.values[1])(rng);
    case size_distribution::kind::list:
      return d.values[std::uniform_int_distribution<std::size_t>(0, d.values.size() - 1)(rng)];
  }
  return d.values[0];
}

// The live_set pattern: the origin report's loop, generalised to lifetime classes and carriers.
class live_set_generator {
 public:
  live_set_generator(const workload_config& w, std::uint64_t seed)
      : w_(w), rng_(seed) {
    std::vector<double> weights;
    for (const lifetime_class& c : w.lifetimes) {
      weights.push_back(c.weight);
      sizes_.emplace_back(c.sizes);
      carrier_picks_.emplace_back(c.carrier_weights, kCarrierCount);
      uses_maps_ = uses_maps_ || c.carrier_weights[int(carrier::map)] > 0 ||
                   c.carrier_weights[int(carrier::unordered_map)] > 0;
      uses_buffers_ = uses_buffers_ || c.carrier_weights[int(carrier::tensor_buffer)] > 0;
    }
    lifetime_pick_ = weighted_pick(weights.data(), weights.size());
    item_.resize(w.live_cap);
    position_.resize(w.live_cap);
    for (std::size_t s = w.live_cap; s-- > 0;) free_slots_.push_back(std::uint32_t(s));
  }

  thread_trace run() {
    thread_trace t;
    t.slots = std::uint32_t(w_.live_cap);
    t.uses_maps = uses_maps_;
    t.uses_buffers = uses_buffers_;
    t.ops.reserve(w_.ops_per_thread + w_.live_cap);
    ops_ = &t.ops;
    for (std::size_t i = 0; i < w_.ops_per_thread; ++i) step(i);
    drain();
    return t;
  }

 private:
  struct item {
    carrier how;
    std::uint32_t size;
    std::size_t lifetime;
  };

  std::size_t live() const { return w_.live_cap - free_slots_.size(); }

  void step(std::size_t now) {
    if (!scoped_.empty() && scoped_.top().first <= now) {
      const std::uint32_t s = scoped_.top().second;
      scoped_.pop();
      release(s);
      return;
    }
    if (!tensors_.empty() && w_.tensor_resize_probability > 0 && uniform01(rng_) < w_.tensor_resize_probability) {
      const std::uint32_t s = tensors_[std::uniform_int_distribution<std::size_t>(0, tensors_.size() - 1)(rng_)];
      item_[s].size = sizes_[item_[s].lifetime](rng_);
      emit(item_[s].how == carrier::tensor ? op_kind::tensor_resize : op_kind::buffer_resize, s,
           floats(item_[s].size));
      return;
    }
    const bool allocate = live() < w_.live_cap && (uniform01(rng_) < w_.allocate_probability || live() == 0);
    if (allocate) return acquire(now);
    const std::size_t pooled = random_.size() + fifo_.size();
    if (pooled == 0) {  // only scoped items are live and the cap is reached: end the next one early
      const std::uint32_t s = scoped_.top().second;
      scoped_.pop();
      return release(s);
    }
    const std::size_t r = std::uniform_int_distribution<std::size_t>(0, pooled - 1)(rng_);
    if (r < random_.size()) {
      const std::uint32_t s = random_[r];
      random_[r] = random_.back();  // swap-with-last, as the report's loop does
      random_.pop_back();
      release(s);
    } else {
      const std::uint32_t s = fifo_.front();
      fifo_.pop_front();
      release(s);
    }
  }

  void acquire(std::size_t now) {
    const std::size_t lt = lifetime_pick_(rng_);
    const lifetime_class& c = w_.lifetimes[lt];
    const carrier how = carrier(carrier_picks_[lt](rng_));
    const std::uint32_t size = sizes_[lt](rng_);
    const std::uint32_t s = free_slots_.back();
    free_slots_.pop_back();
    item_[s] = item{how, size, lt};
    switch (how) {
      case carrier::raw: emit(op_kind::allocate, s, size); break;
      case carrier::tensor:
      case carrier::tensor_buffer:
        emit(how == carrier::tensor ? op_kind::tensor_resize : op_kind::buffer_resize, s, floats(size));
        position_[s] = tensors_.size();
        tensors_.push_back(s);
        break;
      case carrier::map: emit(op_kind::map_insert, s, size); break;
      case carrier::unordered_map: emit(op_kind::umap_insert, s, size); break;
    }
    switch (c.kind) {
      case lifetime_kind::random: random_.push_back(s); break;
      case lifetime_kind::fifo: fifo_.push_back(s); break;
      case lifetime_kind::scoped: {
        const std::size_t span = std::uniform_int_distribution<std::uint32_t>(c.min_ops, c.max_ops)(rng_);
        scoped_.push({now + span, s});
        break;
      }
    }
  }

  // Frees slot s (already removed from its lifetime pool).
  void release(std::uint32_t s) {
    const item& it = item_[s];
    switch (it.how) {
      case carrier::raw: emit(op_kind::deallocate, s, it.size); break;
      case carrier::tensor:
      case carrier::tensor_buffer: {
        emit(it.how == carrier::tensor ? op_kind::tensor_drop : op_kind::buffer_drop, s, 0);
        const std::uint32_t last = tensors_.back();
        tensors_[position_[s]] = last;
        position_[last] = position_[s];
        tensors_.pop_back();
        break;
      }
      case carrier::map: emit(op_kind::map_erase, s, it.size); break;
      case carrier::unordered_map: emit(op_kind::umap_erase, s, it.size); break;
    }
    free_slots_.push_back(s);
  }

  void drain() {
    while (!scoped_.empty()) {
      release(scoped_.top().second);
      scoped_.pop();
    }
    for (std::uint32_t s : random_) release(s);
    for (std::uint32_t s : fifo_) release(s);
    random_.clear();
    fifo_.clear();
  }

  static std::uint32_t floats(std::uint32_t bytes) { return std::max<std::uint32_t>(1, bytes / 4); }
  void emit(op_kind k, std::uint32_t slot, std::uint32_t size) { ops_->push_back(op{k, slot, size}); }

  const workload_config& w_;
  rng_t rng_;
  weighted_pick lifetime_pick_;
  std::vector<size_sampler> sizes_;          // per lifetime class
  std::vector<weighted_pick> carrier_picks_;  // per lifetime class
  bool uses_maps_ = false, uses_buffers_ = false;
  std::vector<item> item_;
  std::vector<std::size_t> position_;  // a tensor slot's index in tensors_
  std::vector<std::uint32_t> free_slots_;
  std::vector<std::uint32_t> random_;
  std::deque<std::uint32_t> fifo_;
  std::vector<std::uint32_t> tensors_;  // live tensor and tensor_buffer slots: what a resize picks from
  using due = std::pair<std::size_t, std::uint32_t>;
  std::priority_queue<due, std::vector<due>, std::greater<due>> scoped_;
  std::vector<op>* ops_ = nullptr;
};

// ring_handoff: a planned sequence of sends and receives; the runner substitutes one for the other
// when the queue is full or empty, so the plan only sets the mix.
thread_trace ring_trace(const workload_config& w, std::uint64_t seed) {
  rng_t rng(seed);
  const size_sampler draw(w.sizes);
  thread_trace t;
  t.handoff = true;
  t.ops.reserve(w.ops_per_thread + w.ring_batch);
  if (w.ring_batch > 1) {
    // Batches: fill one (batch sends), then free one received; the runner substitutes as above.
    t.batch = std::uint32_t(w.ring_batch);
    while (t.ops.size() < w.ops_per_thread) {
      for (std::size_t k = 0; k < w.ring_batch; ++k) t.ops.push_back(op{op_kind::batch_send, 0, draw(rng)});
      t.ops.push_back(op{op_kind::batch_receive, 0, draw(rng)});
    }
    return t;
  }
  for (std::size_t i = 0; i < w.ops_per_thread; ++i) {
    if (uniform01(rng) < w.allocate_probability) {
      t.ops.push_back(op{op_kind::send, 0, draw(rng)});
    } else {
      t.ops.push_back(op{op_kind::receive, 0, draw(rng)});  // the size, should it turn into a send
    }
  }
  return t;
}

// requests: `in_flight` requests per thread; each operation adds a token to a random request (a KV
// block of a drawn size, and its activation tensor_buffer grows by token_floats); a finished request
// frees everything.
thread_trace requests_trace(const workload_config& w, std::uint64_t seed) {
  rng_t rng(seed);
  const size_sampler draw(w.sizes);
  thread_trace t;
  t.uses_buffers = true;
  const std::uint32_t per_request = w.max_tokens;
  t.slots = std::uint32_t(w.requests_in_flight) * per_request;
  t.ops.reserve(w.ops_per_thread + t.slots);
  struct request {
    std::uint32_t target, tokens;
    std::vector<std::uint32_t> sizes;
  };
  std::vector<request> reqs(w.requests_in_flight);
  auto start = [&](request& r) {
    r.target = std::uniform_int_distribution<std::uint32_t>(w.min_tokens, w.max_tokens)(rng);
    r.tokens = 0;
    r.sizes.clear();
  };
  auto finish = [&](std::uint32_t ri) {
    request& r = reqs[ri];
    for (std::uint32_t k = 0; k < r.tokens; ++k) t.ops.push_back(op{op_kind::deallocate, ri * per_request + k, r.sizes[k]});
    if (r.tokens > 0) t.ops.push_back(op{op_kind::buffer_drop, ri, 0});
  };
  for (request& r : reqs) start(r);
  while (t.ops.size() < w.ops_per_thread) {
    const std::uint32_t ri = std::uniform_int_distribution<std::uint32_t>(0, std::uint32_t(reqs.size() - 1))(rng);
    request& r = reqs[ri];
    if (r.tokens == r.target) {
      finish(ri);
      start(r);
      continue;
    }
    const std::uint32_t size = draw(rng);
    t.ops.push_back(op{op_kind::allocate, ri * per_request + r.tokens, size});
    r.sizes.push_back(size);
    ++r.tokens;
    // In 64 bits: parse_workload keeps max_tokens * token_floats below 2^32, and this says so.
    const std::uint64_t floats = std::uint64_t(r.tokens) * w.token_floats;
    if (floats > std::numeric_limits<std::uint32_t>::max()) {
      throw std::length_error("requests trace: tokens x token_floats does not fit 32 bits");
    }
    t.ops.push_back(op{op_kind::buffer_grow, ri, std::uint32_t(floats)});
  }
  for (std::uint32_t ri = 0; ri < reqs.size(); ++ri) finish(ri);
  return t;
}

}  // namespace

std::vector<thread_trace> generate_traces(const workload_config& w, int threads) {
  std::vector<thread_trace> out;
  out.reserve(std::size_t(threads));
  for (int i = 0; i < threads; ++i) {
    // Thread i's trace depends on (seed, i) only: the same thread of a larger run replays the same ops.
    const std::uint64_t seed = w.seed * 0x9E3779B97F4A7C15ull + std::uint64_t(i) * 0xBF58476D1CE4E5B9ull + 1;
    switch (w.pattern) {
      case workload_pattern::live_set: out.push_back(live_set_generator(w, seed).run()); break;
      case workload_pattern::ring_handoff: out.push_back(ring_trace(w, seed)); break;
      case workload_pattern::requests: out.push_back(requests_trace(w, seed)); break;
      case workload_pattern::trace: throw std::invalid_argument(w.source + ": a trace workload is replayed, not generated (bench/trace_replay.h)");
    }
  }
  return out;
}

}  // namespace allocbench::bench
