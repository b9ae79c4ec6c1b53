#pragma once

// Many non-blocking socket reads and writes issued with one kernel entry.
//
//   addRecv / addSend ... (up to capacity)  -->  run()  -->  result(i) for each
//
// With io_uring (Linux 5.6+, unless a seccomp policy or --no-io-uring forbids it) run() is
// one io_uring_enter for the whole batch; otherwise it is one recv(2)/send(2) per entry.
// Either way every entry is issued with MSG_DONTWAIT and has completed when run() returns,
// and its result reads as the system call's would: bytes moved, or -errno (-EAGAIN when the
// socket had nothing to read or no room to write).
//
// Contract: the fds and buffers of queued entries must stay open and valid until run()
// returns. Thread: one owner.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace sy::server {

class SocketBatch {
 public:
  enum class Mode { kIoUring, kSyscalls };

  // Sets up io_uring for `capacity` entries when `mode` asks for it and the kernel allows it;
  // falls back to system calls otherwise (mode() tells which was granted, why_not() why).
  SocketBatch(size_t capacity, Mode mode);
  ~SocketBatch();
  SocketBatch(const SocketBatch&) = delete;
  SocketBatch& operator=(const SocketBatch&) = delete;

  Mode mode() const { return mode_; }
  const char* whyNotIoUring() const { return why_not_; }
  size_t size() const { return entries_.size(); }
  bool full() const { return entries_.size() == capacity_; }

  // Queue an entry; result(i) answers for the i-th one queued since clear(). Requires
  // !full().
  void addRecv(int fd, std::span<char> into);
  void addSend(int fd, std::span<const char> from);

  // Issues every queued entry. Afterwards result(i) holds each outcome until clear().
  void run();
  ssize_t result(size_t index) const { return entries_[index].result; }
  void clear() { entries_.clear(); }

 private:
  struct Entry {
    int fd;
    bool is_send;
    char* data;
    size_t size;
    ssize_t result;
  };
  struct Ring;

  static constexpr ssize_t kNotDone = INT32_MIN;

  void runSyscalls();
  void runIoUring();

  size_t capacity_;
  Mode mode_;
  const char* why_not_ = "";
  std::unique_ptr<Ring> ring_;
  uint32_t serial_ = 0;
  std::vector<Entry> entries_;
};

}  // namespace sy::server
