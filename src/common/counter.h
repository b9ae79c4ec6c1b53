// Counter: a statistic written by exactly one thread (its worker) and read by any other
// (the stats aggregator). Increments are a relaxed load plus a relaxed store: plain moves on
// x86-64, no locked read-modify-write on the request path, and still race-free for readers.
#pragma once

#include <atomic>
#include <cstdint>

namespace sy::common {

class Counter {
 public:
  // Writer thread only.
  void add(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void sub(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  void set(uint64_t v) { value_.store(v, std::memory_order_relaxed); }
  // Any thread.
  uint64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

}  // namespace sy::common
