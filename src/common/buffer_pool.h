// BufferPool: a free list of ByteBuffers, so that connections borrow a buffer only while
// they have bytes in it. An idle client connection then holds no buffer at all, and busy
// ones reuse warm buffers instead of allocating. Owned by one thread (one per worker).
#pragma once

#include <memory>
#include <vector>

#include "common/byte_buffer.h"

namespace sy::common {

class BufferPool {
 public:
  // `buffer_size`: capacity of a fresh buffer; buffers that grew past `keep_limit` are
  // shrunk on release; at most `max_free` idle buffers are kept.
  BufferPool(size_t buffer_size, size_t keep_limit, size_t max_free)
      : buffer_size_(buffer_size), keep_limit_(keep_limit), max_free_(max_free) {}

  std::unique_ptr<ByteBuffer> acquire() {
    if (free_.empty()) return std::make_unique<ByteBuffer>(buffer_size_);
    auto buffer = std::move(free_.back());
    free_.pop_back();
    return buffer;
  }

  // Takes the buffer back (it need not be empty; it is cleared). Null is ignored.
  void release(std::unique_ptr<ByteBuffer> buffer) {
    if (!buffer) return;
    buffer->clear();
    if (free_.size() >= max_free_) return;
    if (buffer->capacity() > keep_limit_) buffer->shrinkIfIdle(buffer_size_);
    free_.push_back(std::move(buffer));
  }

  size_t freeCount() const { return free_.size(); }

 private:
  size_t buffer_size_;
  size_t keep_limit_;
  size_t max_free_;
  std::vector<std::unique_ptr<ByteBuffer>> free_;
};

}  // namespace sy::common
