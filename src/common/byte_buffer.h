// ByteBuffer: a growable byte queue with a read cursor, for socket input and output.
//
//   [ consumed | readable .................. | writable spare ]
//   0          read_pos_                     write_pos_       capacity
//
// Appends go at the end; consume() advances the read cursor; the buffer compacts itself
// (moves readable bytes to the front) only when it needs room, so a steady stream of small
// messages costs no allocation once the buffer has grown to its working size. New storage is
// not zero-filled, so reserving room costs no page until bytes are written there.
// Owned by one thread; not synchronised.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace sy::common {

class ByteBuffer {
 public:
  explicit ByteBuffer(size_t initial_capacity = 0) { reallocate(initial_capacity); }

  size_t size() const { return write_pos_ - read_pos_; }
  bool empty() const { return read_pos_ == write_pos_; }
  size_t capacity() const { return capacity_; }

  // The readable bytes. Valid until the next non-const call.
  std::string_view view() const { return {storage_.get() + read_pos_, write_pos_ - read_pos_}; }
  const char* data() const { return storage_.get() + read_pos_; }

  void append(std::string_view bytes) {
    if (bytes.empty()) return;
    ensureWritable(bytes.size());
    std::memcpy(storage_.get() + write_pos_, bytes.data(), bytes.size());
    write_pos_ += bytes.size();
  }
  void append(char c) {
    ensureWritable(1);
    storage_[write_pos_++] = c;
  }

  // Room for at least `n` more bytes at the end; returns it. Call commit() with what was
  // actually written there. Valid until the next non-const call.
  std::span<char> prepare(size_t n) {
    ensureWritable(n);
    return {storage_.get() + write_pos_, capacity_ - write_pos_};
  }
  void commit(size_t n) { write_pos_ += n; }

  // Drops `n` bytes from the front (n <= size()).
  void consume(size_t n) {
    read_pos_ += n;
    if (read_pos_ == write_pos_) read_pos_ = write_pos_ = 0;
  }
  void clear() { read_pos_ = write_pos_ = 0; }

  // Gives memory back when the buffer grew far past `keep` and is now empty, so one big
  // request does not pin megabytes to an idle connection.
  void shrinkIfIdle(size_t keep) {
    if (empty() && capacity_ > keep) {
      reallocate(keep);
      read_pos_ = write_pos_ = 0;
    }
  }

  void swap(ByteBuffer& other) noexcept {
    storage_.swap(other.storage_);
    std::swap(capacity_, other.capacity_);
    std::swap(read_pos_, other.read_pos_);
    std::swap(write_pos_, other.write_pos_);
  }

 private:
  void ensureWritable(size_t n) {
    if (capacity_ - write_pos_ >= n) return;
    size_t live = write_pos_ - read_pos_;
    if (read_pos_ > 0 && capacity_ - live >= n && read_pos_ >= live) {
      std::memmove(storage_.get(), storage_.get() + read_pos_, live);
    } else {
      size_t bigger_capacity = std::max(capacity_ * 2, live + n + 256);
      auto bigger = std::make_unique_for_overwrite<char[]>(bigger_capacity);
      if (live) std::memcpy(bigger.get(), storage_.get() + read_pos_, live);
      storage_ = std::move(bigger);
      capacity_ = bigger_capacity;
    }
    read_pos_ = 0;
    write_pos_ = live;
  }

  void reallocate(size_t capacity) {
    storage_ = capacity ? std::make_unique_for_overwrite<char[]>(capacity) : nullptr;
    capacity_ = capacity;
  }

  std::unique_ptr<char[]> storage_;
  size_t capacity_ = 0;
  size_t read_pos_ = 0;
  size_t write_pos_ = 0;
};

}  // namespace sy::common
