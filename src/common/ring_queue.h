// RingQueue<T>: a FIFO on a power-of-two ring that grows and never shrinks, so a steady
// push/pop stream allocates nothing once it has reached its working depth (std::deque
// allocates a block every few dozen elements). For small trivially-copyable elements:
// pending-request pointers, backend in-flight entries. Owned by one thread.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/check.h"

namespace sy::common {

template <typename T>
class RingQueue {
  static_assert(std::is_trivially_copyable_v<T>, "RingQueue holds small plain values");

 public:
  bool empty() const { return head_ == tail_; }
  size_t size() const { return tail_ - head_; }

  void push(const T& value) {
    if (size() == slots_.size()) grow();
    slots_[tail_++ & mask_] = value;
  }
  // Preconditions for front/back/pop: !empty().
  T& front() { return slots_[head_ & mask_]; }
  const T& front() const { return slots_[head_ & mask_]; }
  T& back() { return slots_[(tail_ - 1) & mask_]; }
  T pop() {
    SY_ASSERT(!empty());
    return slots_[head_++ & mask_];
  }
  // The i-th element from the front (i < size()).
  T& operator[](size_t i) { return slots_[(head_ + i) & mask_]; }
  const T& operator[](size_t i) const { return slots_[(head_ + i) & mask_]; }
  void clear() { head_ = tail_ = 0; }

 private:
  void grow() {
    size_t capacity = slots_.empty() ? 8 : slots_.size() * 2;
    std::vector<T> bigger(capacity);
    size_t n = size();
    for (size_t i = 0; i < n; ++i) bigger[i] = (*this)[i];
    slots_.swap(bigger);
    mask_ = capacity - 1;
    head_ = 0;
    tail_ = n;
  }

  std::vector<T> slots_;
  size_t mask_ = 0;
  size_t head_ = 0;  // monotonically increasing; index = head_ & mask_
  size_t tail_ = 0;
};

}  // namespace sy::common
