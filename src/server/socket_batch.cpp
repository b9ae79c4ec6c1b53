#include "server/socket_batch.h"

#include <liburing.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/check.h"

namespace sy::server {

struct SocketBatch::Ring {
  io_uring ring{};
};

namespace {

// Every entry completes inline at submission (MSG_DONTWAIT), so nothing ever waits in the
// ring: these flags only spare the kernel work it would do for rings that keep requests.
unsigned ringFlags() {
  unsigned flags = 0;
#ifdef IORING_SETUP_SUBMIT_ALL
  flags |= IORING_SETUP_SUBMIT_ALL;  // one bad entry does not stop the rest
#endif
#ifdef IORING_SETUP_COOP_TASKRUN
  flags |= IORING_SETUP_COOP_TASKRUN;
#endif
  // Not IORING_SETUP_SINGLE_ISSUER: the ring is set up on the control thread and used on the
  // worker's.
  return flags;
}

bool supportsSocketOps(io_uring& ring) {
  io_uring_probe* probe = io_uring_get_probe_ring(&ring);
  if (probe == nullptr) return false;
  bool ok = io_uring_opcode_supported(probe, IORING_OP_SEND) &&
            io_uring_opcode_supported(probe, IORING_OP_RECV);
  io_uring_free_probe(probe);
  return ok;
}

}  // namespace

SocketBatch::SocketBatch(size_t capacity, Mode mode) : capacity_(capacity), mode_(Mode::kSyscalls) {
  if (capacity == 0) throw std::invalid_argument("a socket batch needs room for one entry");
  entries_.reserve(capacity);
  if (mode != Mode::kIoUring) {
    why_not_ = "turned off";
    return;
  }
  auto ring = std::make_unique<Ring>();
  unsigned entries = static_cast<unsigned>(capacity);
  int status = io_uring_queue_init(entries, &ring->ring, ringFlags());
  if (status == -EINVAL) status = io_uring_queue_init(entries, &ring->ring, 0);  // older kernel
  if (status < 0) {
    why_not_ = std::strerror(-status);
    return;
  }
  if (!supportsSocketOps(ring->ring)) {
    io_uring_queue_exit(&ring->ring);
    why_not_ = "the kernel's io_uring has no send/recv";
    return;
  }
  ring_ = std::move(ring);
  mode_ = Mode::kIoUring;
}

SocketBatch::~SocketBatch() {
  if (ring_) io_uring_queue_exit(&ring_->ring);
}

void SocketBatch::addRecv(int fd, std::span<char> into) {
  SY_ASSERT(!full());
  entries_.push_back(Entry{fd, false, into.data(), into.size(), kNotDone});
}

void SocketBatch::addSend(int fd, std::span<const char> from) {
  SY_ASSERT(!full());
  // The buffer is only read; Entry keeps one pointer type for both directions.
  entries_.push_back(Entry{fd, true, const_cast<char*>(from.data()), from.size(), kNotDone});
}

void SocketBatch::run() {
  if (entries_.empty()) return;
  if (mode_ == Mode::kIoUring) {
    runIoUring();
  } else {
    runSyscalls();
  }
}

void SocketBatch::runSyscalls() {
  for (size_t i = 0; i < entries_.size(); ++i) {
    Entry& entry = entries_[i];
    ssize_t n;
    do {
      n = entry.is_send ? ::send(entry.fd, entry.data, entry.size, MSG_DONTWAIT | MSG_NOSIGNAL)
                        : ::recv(entry.fd, entry.data, entry.size, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    entry.result = n < 0 ? -errno : n;
  }
}

// Completions carry the batch serial in their top half, so a completion that could only
// arrive after its batch was given up on is recognised and dropped.
void SocketBatch::runIoUring() {
  io_uring& ring = ring_->ring;
  ++serial_;
  for (size_t i = 0; i < entries_.size(); ++i) {
    Entry& entry = entries_[i];
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);  // capacity entries always fit: run() drains
    if (entry.is_send) {
      io_uring_prep_send(sqe, entry.fd, entry.data, entry.size, MSG_DONTWAIT | MSG_NOSIGNAL);
    } else {
      io_uring_prep_recv(sqe, entry.fd, entry.data, entry.size, MSG_DONTWAIT);
    }
    io_uring_sqe_set_data64(sqe, (static_cast<uint64_t>(serial_) << 32) | i);
  }
  size_t completed = 0;
  bool submitted_any = false;
  while (completed < entries_.size()) {
    io_uring_cqe* cqe;
    unsigned head;
    unsigned seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      uint64_t tag = io_uring_cqe_get_data64(cqe);
      size_t index = static_cast<uint32_t>(tag);
      if ((tag >> 32) != serial_ || index >= entries_.size()) continue;  // a given-up batch
      entries_[index].result = cqe->res;
      ++completed;
    }
    io_uring_cq_advance(&ring, seen);
    if (completed == entries_.size()) break;
    // Submits what is queued (everything, the first time) and waits for one completion;
    // MSG_DONTWAIT entries all complete inside this call.
    int status = io_uring_submit_and_wait(&ring, 1);
    if (status == -EINTR) continue;
    if (status >= 0) {
      submitted_any = submitted_any || status > 0;
      continue;
    }
    if (!submitted_any) {
      // The kernel took nothing: give io_uring up and issue the batch as system calls.
      SY_BUG(true, "io_uring_enter refused a batch; using system calls from now on");
      io_uring_queue_exit(&ring);
      ring_.reset();
      mode_ = Mode::kSyscalls;
      why_not_ = "io_uring_enter failed";
      runSyscalls();
      return;
    }
    SY_BUG(true, "io_uring_enter failed while a batch was in flight");
    for (Entry& entry : entries_) {
      if (entry.result == kNotDone) entry.result = status;
    }
    return;
  }
}

}  // namespace sy::server
