// HandlerMemory: room for one asynchronous operation's handler at a time. An object that
// keeps at most one operation of a kind outstanding (a connection's read, a worker's
// end-of-turn post) re-arms it without touching the heap. Asio frees an operation's memory
// before it calls the handler, so the handler may start the next operation in the same
// room. Anything larger than the room, or a second operation while the room is taken, falls
// back to the heap: correct, just slower.
//
//   socket.async_read_some(buffer, bindHandlerMemory(read_memory_, [this](...) {...}));
//
// Owned by the object whose operations use it; used on that object's thread only.
#pragma once

#include <asio/bind_allocator.hpp>

#include <cstddef>
#include <new>
#include <utility>

namespace sy::common {

class HandlerMemory {
 public:
  HandlerMemory() = default;
  HandlerMemory(const HandlerMemory&) = delete;
  HandlerMemory& operator=(const HandlerMemory&) = delete;

  void* allocate(size_t size) {
    if (!in_use_ && size <= sizeof(storage_)) {
      in_use_ = true;
      return storage_;
    }
    return ::operator new(size);
  }
  void deallocate(void* pointer) {
    if (pointer == storage_) {
      in_use_ = false;
    } else {
      ::operator delete(pointer);
    }
  }

 private:
  alignas(std::max_align_t) unsigned char storage_[256];
  bool in_use_ = false;
};

// The allocator asio sees; all copies share one HandlerMemory.
template <typename T>
class HandlerAllocator {
 public:
  using value_type = T;
  explicit HandlerAllocator(HandlerMemory& memory) : memory_(&memory) {}
  template <typename U>
  HandlerAllocator(const HandlerAllocator<U>& other) noexcept : memory_(other.memory_) {}  // NOLINT

  T* allocate(size_t n) { return static_cast<T*>(memory_->allocate(sizeof(T) * n)); }
  void deallocate(T* pointer, size_t /*n*/) { memory_->deallocate(pointer); }

  template <typename U>
  bool operator==(const HandlerAllocator<U>& other) const noexcept {
    return memory_ == other.memory_;
  }
  template <typename U>
  bool operator!=(const HandlerAllocator<U>& other) const noexcept {
    return memory_ != other.memory_;
  }

 private:
  template <typename>
  friend class HandlerAllocator;
  HandlerMemory* memory_;
};

template <typename Handler>
auto bindHandlerMemory(HandlerMemory& memory, Handler&& handler) {
  return asio::bind_allocator(HandlerAllocator<int>(memory), std::forward<Handler>(handler));
}

}  // namespace sy::common
